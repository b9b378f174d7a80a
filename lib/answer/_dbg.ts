import { ComputeEngine } from '@cortex-js/compute-engine';
for (const prec of ['machine', 'auto', 300] as const) {
const ce = new ComputeEngine(); ce.precision=prec as any;
for (const s of ['2^{100}+1','10^{30}','10^{30}+1','\\frac{2005\\cdot 2006}{2006!}','2^{100}','100!+1', '\\sqrt{2}+1', '\\frac{1}{3}+\\frac{1}{7}']) {
const t=performance.now(); const e = ce.parse(s); const ev = e.evaluate().json as any;
console.log(prec, s, JSON.stringify(ev).slice(0,90), (performance.now()-t).toFixed(1));
}}
