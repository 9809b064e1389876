// The audit's cost per certificate: PEM parse (first sight), cached read (every later scan) and
// the memory a read certificate keeps. Run: npm run build && node --expose-gc test/bench/audit-bench.mjs [count]
import { generateKeyPairSync } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { PemReader } from '../../dist/audit/pem.js';
import { issueCertificate } from '../../dist/simulator/x509.js';

const count = Number(process.argv[2] ?? 5000);
const now = Date.now();
const issuer = generateKeyPairSync('ed25519').privateKey;
const keys = {
  'ec-p256': generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey,
  'rsa-2048': generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey,
};

function certificates(publicKey) {
  return Array.from({ length: count }, (_, index) =>
    issueCertificate({
      serial: BigInt(index + 1),
      issuerCommonName: 'Bench CA',
      subjectCommonName: `dev-${index}`,
      notBefore: now - 86_400_000,
      notAfter: now + 365 * 86_400_000,
      subjectPublicKey: publicKey,
      issuerKey: issuer,
      scheme: 'ed25519',
    }),
  );
}

const heap = () => {
  globalThis.gc?.();
  return process.memoryUsage().heapUsed;
};

console.log(`certificates per kind: ${count}; node ${process.version}; gc exposed: ${typeof globalThis.gc === 'function'}`);
console.log('kind      parse µs/cert  cached read µs/cert  kept bytes/cert');
for (const [kind, publicKey] of Object.entries(keys)) {
  const pems = certificates(publicKey);
  const reader = new PemReader();
  const before = heap();
  let start = performance.now();
  const kept = pems.map((pem) => reader.read(pem));
  const parseUs = ((performance.now() - start) * 1000) / count;
  const keptBytes = (heap() - before) / count;
  start = performance.now();
  for (const pem of pems) reader.read(pem);
  const cachedUs = ((performance.now() - start) * 1000) / count;
  if (reader.parses !== count || kept.some((content) => typeof content !== 'object')) throw new Error('not every certificate was parsed once');
  console.log(`${kind.padEnd(9)} ${parseUs.toFixed(1).padStart(13)}  ${cachedUs.toFixed(1).padStart(19)}  ${keptBytes.toFixed(0).padStart(15)}`);
}
