// Booting deblayer's disk images under qemu, as a firmware does: OVMF, no
// -kernel. Software emulation only (-accel tcg): /dev/kvm opens on these
// machines but the CPU has no vmx/svm, and a kvm guest spins silently.
// A guest reports through the probe unit of fixtures/guest (added to the base
// tree before import): it runs the script handed over by fw_cfg once the
// machine is up, writes to the second serial port, and powers off.

import { execa } from 'execa';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

const PROJECT = new URL('../../', import.meta.url).pathname;
const OVMF = '/usr/share/ovmf/OVMF.fd';

/** Extracts a bootable base tarball into DIR and adds the probe (and deblayer itself, for a guest that runs it). */
export async function prepareGuestTree(tarball: string, dir: string, options: { withDeblayer?: boolean } = {}): Promise<string> {
  await execa('sh', [join(PROJECT, 'test/prepare-guest-tree.sh'), tarball, dir, ...(options.withDeblayer ? ['--with-deblayer'] : [])]);
  return dir;
}

export interface BootResult {
  /** What the probe script printed (between the markers). */
  probe: string;
  /** The probe script's exit status, or undefined when it never finished. */
  probeStatus?: number;
  /** The serial console: firmware, GRUB, kernel, systemd. */
  console: string;
  consoleLog: string;
  seconds: number;
  /** Seconds from qemu's start to the probe's start (the machine is up). */
  upAfter?: number;
}

export interface BootOptions {
  image: string;
  /** Shell script the probe runs in the guest (as root, /bin/sh). */
  script: string;
  /** Where the console, probe output and script go. */
  workDir: string;
  name: string;
  timeoutMs: number;
  memory?: number;
  /** A host port on 127.0.0.1 forwarded to the guest's port 80. */
  httpPort?: number;
  /** Called with each line the probe prints, as it prints it. */
  onProbeLine?: (line: string) => void | Promise<void>;
}

/** A free TCP port on the loopback interface. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Boots IMAGE once, until the probe powers it off or the timeout; qemu is killed by its pid either way. */
export async function boot(options: BootOptions): Promise<BootResult> {
  mkdirSync(options.workDir, { recursive: true });
  const consoleLog = join(options.workDir, `${options.name}.console.log`);
  const probeLog = join(options.workDir, `${options.name}.probe.log`);
  const scriptFile = join(options.workDir, `${options.name}.probe.sh`);
  writeFileSync(scriptFile, options.script);
  writeFileSync(consoleLog, '');
  writeFileSync(probeLog, '');
  const netdev = `user,id=n0${options.httpPort ? `,hostfwd=tcp:127.0.0.1:${options.httpPort}-:80` : ''}`;
  const args = [
    '-accel', 'tcg',
    '-machine', 'q35',
    // One vCPU: with two, multi-threaded TCG once crashed a trixie guest's
    // kernel while it patched its own code (a panic in
    // devcgroup_check_permission), with the host under the suite's load.
    '-smp', '1',
    '-m', String(options.memory ?? 1536),
    '-bios', OVMF,
    '-display', 'none',
    '-no-reboot',
    '-drive', `file=${options.image},format=raw,if=virtio`,
    '-serial', `file:${consoleLog}`,
    '-serial', `file:${probeLog}`,
    '-fw_cfg', `name=opt/deblayer/probe,file=${scriptFile}`,
    '-netdev', netdev,
    // romfile=: no iPXE ROM, so OVMF does not try a network boot first.
    '-device', 'virtio-net-pci,netdev=n0,romfile=',
  ];
  const started = Date.now();
  const qemu = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  qemu.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => {
    qemu.on('exit', (code) => resolve(code));
    // qemu not installed, or not runnable: say so rather than crash the worker.
    qemu.on('error', (err) => {
      stderr += err.message;
      resolve(null);
    });
  });
  let seen = 0;
  let upAfter: number | undefined;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    qemu.kill('SIGKILL');
  }, options.timeoutMs);
  let done = false;
  void exited.then(() => (done = true));
  try {
    // Follow the probe's output while the guest runs.
    while (!done) {
      await Promise.race([exited, new Promise((r) => setTimeout(r, 500))]);
      const text = readFileSync(probeLog, 'utf8');
      const lines = text.split('\n');
      const complete = lines.slice(0, -1);
      for (const line of complete.slice(seen)) {
        if (line.includes('DEBLAYER-PROBE-BEGIN')) upAfter ??= (Date.now() - started) / 1000;
        await options.onProbeLine?.(line.replace(/\r$/, ''));
      }
      seen = complete.length;
    }
  } finally {
    clearTimeout(timer);
    if (qemu.exitCode === null && qemu.signalCode === null) qemu.kill('SIGKILL');
    await exited;
  }
  const consoleText = readFileSync(consoleLog, 'utf8');
  const probeText = readFileSync(probeLog, 'utf8').replace(/\r/g, '');
  const body = /DEBLAYER-PROBE-BEGIN\n([\s\S]*?)(?:DEBLAYER-PROBE-END (\d+)|$)/.exec(probeText);
  const result: BootResult = {
    probe: body?.[1] ?? '',
    ...(body?.[2] !== undefined ? { probeStatus: Number(body[2]) } : {}),
    console: consoleText,
    consoleLog,
    seconds: (Date.now() - started) / 1000,
    ...(upAfter !== undefined ? { upAfter } : {}),
  };
  if (timedOut || result.probeStatus === undefined) {
    const tail = consoleText.split('\n').slice(-60).join('\n');
    throw new Error(
      `${options.name}: the guest ${timedOut ? `did not finish within ${options.timeoutMs / 1000} s` : 'stopped before its probe finished'}${stderr ? ` (qemu: ${stderr.trim()})` : ''}\n` +
        `probe output:\n${probeText}\nlast console lines (${consoleLog}):\n${tail}`,
    );
  }
  return result;
}

/** The probe script's output, with the console tail, for a failing assertion's message. */
export function describeBoot(r: BootResult): string {
  return `probe output:\n${r.probe}\nlast console lines (${r.consoleLog}):\n${r.console.split('\n').slice(-40).join('\n')}`;
}

export function ovmfAvailable(): boolean {
  return existsSync(OVMF);
}
