// Runs INSIDE the sandbox (plain JavaScript, any Node >= 18): the sandbox has no network of
// its own (bwrap --unshare-net leaves only a loopback), so this forwards 127.0.0.1:3128 to the
// runner's egress proxy, reachable only through the unix socket bound at SOCKET, then runs
// the tool with HTTP(S)_PROXY pointing at it and exits with the tool's status.
import { spawn } from 'node:child_process';
import net from 'node:net';

const SOCKET = '/run/portcullis/egress.sock';
const PORT = 3128;

const server = net.createServer((client) => {
  const upstream = net.connect(SOCKET);
  client.pipe(upstream);
  upstream.pipe(client);
  client.on('error', () => upstream.destroy());
  upstream.on('error', () => client.destroy());
});

server.listen(PORT, '127.0.0.1', () => {
  const [command, ...args] = process.argv.slice(2);
  const child = spawn(command, args, { stdio: 'inherit' });
  child.on('error', () => process.exit(127));
  child.on('exit', (code, signal) => {
    server.close();
    if (signal) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
});
