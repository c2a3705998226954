/**
 * HAProxy for the tests (test/helpers/haproxy.ts) and the benchmark (bench/lib/replicas.mjs):
 * the configuration of a round-robin balancer over gateway replicas with no stickiness and
 * health checks on /health (as deploy/haproxy/haproxy.cfg, on 127.0.0.1 ports), and the
 * servers' states from its stats page.
 */

/** Debian's HAProxy binary. */
export const HAPROXY = '/usr/sbin/haproxy';
/** The header naming the replica (HAProxy server) that served an answer. */
export const SERVED_BY = 'x-served-by';

/** One frontend on `port`, one round-robin backend checked on /health, a stats page on `statsPort`. */
export function haproxyConfig(port, statsPort, backends) {
  return [
    'global',
    '  maxconn 4096',
    'defaults',
    '  mode http',
    '  timeout connect 2s',
    '  timeout client 60s',
    '  timeout server 60s',
    // An event stream (a GET stream, a long call) stays open: no idle cut while it is quiet.
    '  timeout tunnel 1h',
    '  option http-server-close',
    'frontend mcp',
    `  bind 127.0.0.1:${port}`,
    '  default_backend gateways',
    'backend gateways',
    '  balance roundrobin',
    // HTTP/1.1 with a Host the gateway accepts (its Host check refuses a request without one).
    '  option httpchk',
    '  http-check send meth GET uri /health ver HTTP/1.1 hdr Host localhost',
    '  http-check expect status 200',
    // A request that reached a replica which died is not sent again: only a failed connect is redispatched.
    '  retries 2',
    '  option redispatch',
    `  http-response set-header ${SERVED_BY} %[srv_name]`,
    ...backends.map((b) => `  server ${b.name} 127.0.0.1:${b.port} check inter 250ms fall 2 rise 1`),
    'frontend stats',
    `  bind 127.0.0.1:${statsPort}`,
    '  stats enable',
    '  stats uri /stats',
    '',
  ].join('\n');
}

/** Each server's state as HAProxy's health checks see it ('UP', 'DOWN', ...), by name, from the stats page's CSV. */
export async function haproxyStates(statsPort) {
  const response = await fetch(`http://127.0.0.1:${statsPort}/stats;csv`);
  const lines = (await response.text()).split('\n');
  const header = (lines[0] ?? '').replace(/^# /, '').split(',');
  const [pxname, svname, status] = ['pxname', 'svname', 'status'].map((column) => header.indexOf(column));
  const found = {};
  for (const line of lines.slice(1)) {
    const cells = line.split(',');
    if (cells[pxname] === 'gateways' && cells[svname] !== 'BACKEND' && cells[svname] !== undefined) found[cells[svname]] = cells[status] ?? '';
  }
  return found;
}
