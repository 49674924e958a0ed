/**
 * A one-file dashboard for long-running hosts, served by `servePrometheus` at `/` on loopback:
 * it polls `/stats.json` every two seconds and draws hit rate per level and process memory over
 * time. No build step, no external assets (the page must work on a machine without network).
 */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Strata</title>
<style>
body{font:14px system-ui,sans-serif;margin:24px;color:#1b1f24;background:#fafbfc}
h1{font-size:18px;margin:0 0 4px}.sub{color:#57606a;margin-bottom:16px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(360px,1fr));gap:16px}
.card{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:12px}
.card h2{font-size:14px;margin:0 0 8px}canvas{width:100%;height:160px}
table{border-collapse:collapse;width:100%}td,th{padding:4px 8px;text-align:right;border-bottom:1px solid #eaeef2}
td:first-child,th:first-child{text-align:left}.alert{color:#cf222e}
</style></head><body>
<h1>Strata</h1><div class="sub" id="root">connecting…</div>
<div class="grid">
<div class="card"><h2>Hit rate by level (%)</h2><canvas id="hit"></canvas></div>
<div class="card"><h2>Memory (MiB): RSS, L1, L2</h2><canvas id="mem"></canvas></div>
<div class="card"><h2>Levels now</h2><table id="levels"></table></div>
<div class="card"><h2>Alerts</h2><div id="alerts">none</div></div>
</div>
<script>
const LEVELS=['content','ast','results','streams'];const COLORS=['#0969da','#1a7f37','#8250df','#bf8700'];
const history=[];const MAX=300;
function draw(id,series,colors,max){const c=document.getElementById(id);const w=c.width=c.clientWidth*2,h=c.height=c.clientHeight*2;const g=c.getContext('2d');
g.clearRect(0,0,w,h);g.strokeStyle='#eaeef2';for(let i=0;i<=4;i++){g.beginPath();g.moveTo(0,h*i/4);g.lineTo(w,h*i/4);g.stroke();}
const top=max||Math.max(1,...series.flat().filter(v=>v!=null));series.forEach((s,k)=>{g.strokeStyle=colors[k];g.lineWidth=3;g.beginPath();let started=false;
s.forEach((v,i)=>{if(v==null)return;const x=w*i/(MAX-1),y=h-h*v/top;started?g.lineTo(x,y):g.moveTo(x,y);started=true;});g.stroke();});}
async function tick(){try{const r=await fetch('stats.json');const s=await r.json();history.push(s);if(history.length>MAX)history.shift();
document.getElementById('root').textContent=s.root+' — profile '+s.profile+' — revision '+s.revision;
draw('hit',LEVELS.map(l=>history.map(h=>h.metrics.levels[l].hitRate==null?null:h.metrics.levels[l].hitRate*100)),COLORS,100);
draw('mem',[history.map(h=>h.rssBytes/1048576),history.map(h=>h.levels.content.bytes/1048576),history.map(h=>h.levels.ast.bytes/1048576)],['#57606a',COLORS[0],COLORS[1]]);
document.getElementById('levels').innerHTML='<tr><th>level</th><th>hits</th><th>misses</th><th>hit rate</th><th>evictions</th><th>entries</th></tr>'+LEVELS.map(l=>{const v=s.levels[l],m=s.metrics.levels[l];
return '<tr><td>'+l+'</td><td>'+v.hits+'</td><td>'+v.misses+'</td><td>'+(m.hitRate==null?'–':(m.hitRate*100).toFixed(1)+'%')+'</td><td>'+v.evictions+'</td><td>'+v.entries+'</td></tr>';}).join('');
document.getElementById('alerts').innerHTML=s.alerts.length?s.alerts.map(a=>'<div class="alert">'+a.message+'</div>').join(''):'none';}catch(e){document.getElementById('root').textContent='disconnected: '+e;}}
tick();setInterval(tick,2000);
</script></body></html>
`;
