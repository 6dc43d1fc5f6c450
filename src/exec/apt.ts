// apt-get and apt-cache, and libapt through python3-apt: the only place that
// runs them. deblayer never uses the host's apt configuration: every call gets
// APT_CONFIG (a file that only sets Dir::Etc, since apt reads its configuration
// files before any -o, as mkosi does) and the -o options of an AptEnvironment
// (src/apt/environment.ts).

import { startPython } from './python.js';
import { run, type RunOptions, type RunResult } from './run.js';

export interface AptInvocation {
  /** Path of the file APT_CONFIG names. */
  configFile: string;
  /** `-o Key=Value` pairs, in order. */
  options: [string, string][];
}

export function aptArgs(apt: AptInvocation, args: string[]): string[] {
  return [...apt.options.flatMap(([k, v]) => ['-o', `${k}=${v}`]), ...args];
}

function aptEnv(apt: AptInvocation): Record<string, string> {
  // Plain C messages: deblayer reads apt's output, and users search for them.
  return { APT_CONFIG: apt.configFile, LC_ALL: 'C.UTF-8', LANGUAGE: '', DEBIAN_FRONTEND: 'noninteractive' };
}

export function aptGet(apt: AptInvocation, args: string[], what: string, options: RunOptions = {}): Promise<RunResult> {
  return run('apt-get', aptArgs(apt, args), what, { ...options, env: { ...aptEnv(apt), ...options.env } });
}

export function aptCache(apt: AptInvocation, args: string[], what: string, options: RunOptions = {}): Promise<RunResult> {
  return run('apt-cache', aptArgs(apt, args), what, { ...options, env: { ...aptEnv(apt), ...options.env } });
}

/** apt's "E:" and "W:" lines, without the prefix. */
export function aptMessages(text: string, kind: 'E' | 'W'): string[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${kind}: `))
    .map((l) => l.slice(3).trim());
}

// libapt through Debian's python3-apt, for the common case of resolution: a
// request of archive packages that adds new packages and changes none of the
// base. It marks them as `apt-get install` does (apt-private/private-install.cc:
// MarkInstall without auto-install for each request, then with it, then the
// problem resolver, with the requests protected), in one dependency cache.
// `apt-get --simulate` builds a second one and orders the whole installation
// besides: 0.75 s against 0.35 s for htop, measured on the real base. Anything
// else (an unknown or virtual name, a version that is not there, a plan that
// would change the base, breakage) answers `fallback`, and apt-get runs
// instead, so that apt's own words make the error.
//
// The process opens apt's cache (most of its time) as soon as it starts, and
// then waits for the one request it answers: a transaction starts it as soon
// as the base is known, so that the cache opens while the rest is set up.
const RESOLVE = `
import json, os, sys, tempfile

def reply(obj):
    sys.stdout.write(json.dumps(obj) + '\\n')
    sys.stdout.flush()
    sys.exit(0)

def fallback(why):
    reply({'fallback': why})

try:
    import apt_pkg
    apt_pkg.init_config()
    for key, value in json.loads(sys.argv[1]):
        apt_pkg.config.set(key, value)
    apt_pkg.init_system()
    cache = apt_pkg.Cache(None)
    depcache = apt_pkg.DepCache(cache)
    opened = None
except ImportError:
    opened = 'python3-apt is not installed'
except apt_pkg.Error as err:
    opened = 'apt cannot open its cache: %s' % err

line = sys.stdin.readline()
if not line:
    sys.exit(0)
if opened is not None:
    fallback(opened)
specs = json.loads(line)

# apt's AutoInstall debug lines (why each dependency is there) go to std::clog.
debug = tempfile.TemporaryFile()
saved_stderr = os.dup(2)
os.dup2(debug.fileno(), 2)
fix = apt_pkg.ProblemResolver(depcache)
requested = []
with apt_pkg.ActionGroup(depcache):
    for spec in specs:
        name, _, version = spec.partition('=')
        name, _, arch = name.partition(':')
        try:
            pkg = cache[(name, arch)] if arch else cache[name]
        except KeyError:
            fallback('no package ' + spec)
        if version:
            ver = next((v for v in pkg.version_list if v.ver_str == version), None)
        else:
            ver = depcache.get_candidate_ver(pkg)
        if ver is None or pkg.current_ver is not None:
            fallback('no new version of ' + spec)
        depcache.set_candidate_ver(pkg, ver)
        fix.clear(pkg)
        fix.protect(pkg)
        depcache.mark_install(pkg, False)
        requested.append(pkg)
    # apt-get does this for the requests whose dependencies or recommends are
    # unmet; on the others MarkInstall changes nothing.
    for pkg in requested:
        depcache.mark_install(pkg, True)
    try:
        fix.resolve(True)
    except apt_pkg.Error:
        fallback('apt cannot add these packages alone')
os.dup2(saved_stderr, 2)
if depcache.broken_count > 0 or depcache.del_count > 0:
    fallback('apt cannot add these packages alone')
marked = [p for p in cache.packages if depcache.marked_install(p) or depcache.marked_upgrade(p) or depcache.marked_downgrade(p)]
if any(p.current_ver is not None for p in marked):
    fallback('the plan changes a package of the base')

# Dependencies before the packages that need them (apt-get's order comes from
# its own pass over the whole installation, which this leaves out).
chosen = {p.id: depcache.get_candidate_ver(p) for p in marked}
order, visiting = [], set()
def visit(pkg):
    if pkg.id in visiting:
        return
    visiting.add(pkg.id)
    deps = chosen[pkg.id].depends_list
    for kind in ('PreDepends', 'Depends'):
        for group in deps.get(kind, []):
            for dep in group:
                targets = [t.parent_pkg for t in dep.all_targets() if t.parent_pkg.id in chosen and chosen[t.parent_pkg.id].id == t.id]
                if targets:
                    visit(targets[0])
                    break
    order.append(pkg)
for pkg in requested + sorted(marked, key=lambda p: p.name):
    visit(pkg)

def release(ver):
    # apt's VerIterator::RelStr: "Debian:12.12/oldstable", as apt-get prints it.
    files = [f for f, _ in ver.file_list]
    out = []
    for i, f in enumerate(files):
        if f.not_source:
            continue
        seen = False
        for g in files[:i]:
            if not g.label or not f.label or g.label != f.label:
                continue
            if g.version == f.version:
                seen = True
                break
            if not g.version or not f.version:
                break
        if seen:
            continue
        text = f.label + ':' if f.label else ''
        if f.archive:
            text += f.version + '/' + f.archive if f.version else f.archive
        else:
            text += f.site or 'localhost'
        out.append(text)
    return ', '.join(out)

records = apt_pkg.PackageRecords(cache)
packages = []
for pkg in order:
    ver = chosen[pkg.id]
    source = next((f for f in ver.file_list if not f[0].not_source), ver.file_list[0])
    records.lookup(source)
    sha256 = records.hashes.find('SHA256')
    packages.append({
        'name': pkg.name,
        'version': ver.ver_str,
        'architecture': ver.arch,
        'origin': release(ver),
        'size': ver.size,
        'installedSize': ver.installed_size,
        'filename': records.filename,
        'sha256': sha256.hashvalue if sha256 else None,
    })
debug.seek(0)
reply({'packages': packages, 'autoInstall': debug.read().decode('utf-8', 'replace')})
`;

export interface LibaptPackage {
  name: string;
  version: string;
  architecture: string;
  /** apt's release string ("Debian:12.12/oldstable"). */
  origin: string;
  /** Of the .deb, in bytes. */
  size: number;
  /** In bytes. */
  installedSize: number;
  filename: string;
  sha256: string | null;
}

export type LibaptResolution =
  | { kind: 'plan'; packages: LibaptPackage[]; /** apt's Debug::pkgDepCache::AutoInstall lines. */ autoInstall: string }
  | { kind: 'fallback'; reason: string };

/** A libapt process with apt's cache open (or opening), for one request. */
export interface LibaptSession {
  /** Marks SPECS for installation; see RESOLVE for when it answers `fallback`. */
  resolve(specs: string[]): Promise<LibaptResolution>;
}

export function openLibapt(apt: AptInvocation): LibaptSession {
  const options = [...apt.options, ['Debug::pkgDepCache::AutoInstall', 'true']];
  const what = 'cannot resolve the request through libapt';
  const started = startPython(RESOLVE, [JSON.stringify(options)], what, aptEnv(apt)).then((p) => {
    // Unused (nothing to resolve after all), it must not keep Node running.
    p.hold(false);
    return p;
  });
  // Reported by resolve(), if it is called.
  started.catch(() => {});
  return {
    async resolve(specs) {
      const p = await started;
      p.hold(true);
      try {
        p.send(JSON.stringify(specs));
        const answer = JSON.parse(await p.nextLine()) as { fallback?: string; packages?: LibaptPackage[]; autoInstall?: string };
        await p.finish();
        if (answer.fallback !== undefined) return { kind: 'fallback', reason: answer.fallback };
        return { kind: 'plan', packages: answer.packages!, autoInstall: answer.autoInstall ?? '' };
      } finally {
        p.hold(false);
      }
    },
  };
}
