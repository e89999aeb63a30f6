import { spawn } from 'node:child_process';
const child = spawn(process.execPath, ['/work/main/dist/src/cli/main.js', 'serve', '--host', '127.0.0.1', '--port', '5081', '--grpc-port=-1', '--log-format', 'json', '--no-access-log'], { stdio: ['ignore', 'ignore', 'pipe'] });
await new Promise((r) => child.stderr.on('data', (d) => { if (String(d).includes('ready in')) r(); }));
const probeSrc = `const lat=[];const end=Date.now()+Number(process.argv[1]);(async()=>{while(Date.now()<end){const t=performance.now();await fetch('http://127.0.0.1:5081/v2/health/live');lat.push(performance.now()-t);await new Promise(r=>setTimeout(r,10));}lat.sort((a,b)=>a-b);console.log('probe n',lat.length,'p50',lat[Math.floor(lat.length*0.5)].toFixed(1),'p99',lat[Math.floor(lat.length*0.99)].toFixed(1),'max',lat[lat.length-1].toFixed(1));})();`;
const kind = process.argv[2] ?? 'json';
const n = 5 * 3 * 224 * 224;
const body = kind === 'json' ? Buffer.from(JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [5, 3, 224, 224], data: Array.from({ length: n }, () => Math.random()) }] }))
  : Buffer.from(JSON.stringify({ inputs: [{ name: 'input', datatype: 'BYTES', shape: [65536], data: Array.from({ length: 65536 }, () => '') }] }));
console.log(kind, 'body MB', (body.length / 1e6).toFixed(1));
const probe = spawn(process.execPath, ['-e', probeSrc, '4000'], { stdio: ['ignore', 'inherit', 'inherit'] });
await new Promise((r) => setTimeout(r, 300));
const t0 = performance.now();
const res = [];
for (let round = 0; round < 3; round++) res.push(...await Promise.all(Array.from({ length: 5 }, () => fetch('http://127.0.0.1:5081/v2/models/mobilenetv2-int8/infer', { method: 'POST', headers: { 'content-type': 'application/json' }, body }).then(async (r) => r.status))));
console.log(res.join(','), (performance.now() - t0).toFixed(0), 'ms');
await new Promise((r) => probe.on('exit', r));
child.kill('SIGINT');
