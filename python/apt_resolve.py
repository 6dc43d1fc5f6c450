"""Resolution through libapt (Debian's python3-apt), for the common case: a
request of archive packages that adds new packages, may upgrade layered ones,
and changes none of the base.

It marks them as `apt-get install` does (apt-private/private-install.cc:
MarkInstall without auto-install for each request, then with it, then the
problem resolver, with the requests protected), in one dependency cache;
`apt-get --simulate` builds a second one and orders the whole installation
besides. Against a layered state (src/apt/current-state.ts) the layered
packages are installed and not held, the base's are held: a package may only
change if it is not held. Anything else (an unknown or virtual name, a version
that is not there, a plan that would change the base, breakage) answers
{"fallback": WHY}, and apt-get runs instead, so that apt's own words make the
error.

`apt_resolve.py OPTIONS`: OPTIONS is a JSON list of [key, value] pairs of
apt's configuration (src/exec/apt.ts runs it with APT_CONFIG set, as apt-get).
The process opens apt's cache (most of its time) as soon as it starts, and
then waits on stdin for the one request it answers, an object {"install":
SPECS, "auto": NAMES, "autoremove": BOOL}: SPECS are package specs
(NAME[:ARCH][=VERSION]) to install; NAMES are marked automatically installed
first (the requests uninstall drops), and with autoremove every package
nothing needs any more is removed, as `apt-get autoremove` does. A
transaction starts it as soon as the base is known, so that the cache opens
while the rest is set up. The answer is one JSON line on stdout,
{"packages": [...], "removed": [...], "autoInstall": TEXT, "notUpgraded": N}
or {"fallback": WHY}; N is apt-get's "N not upgraded" (installed packages
with a newer candidate that the plan keeps: the base's too, held)."""

import json
import os
import sys
import tempfile


def reply(obj):
    sys.stdout.write(json.dumps(obj) + '\n')
    sys.stdout.flush()
    sys.exit(0)


def fallback(why):
    reply({'fallback': why})


def open_cache(options):
    """(apt_pkg, cache, depcache, None), or (None, None, None, why not)."""
    try:
        import apt_pkg
    except ImportError:
        return None, None, None, 'python3-apt is not installed'
    try:
        apt_pkg.init_config()
        for key, value in options:
            apt_pkg.config.set(key, value)
        apt_pkg.init_system()
        cache = apt_pkg.Cache(None)
        return apt_pkg, cache, apt_pkg.DepCache(cache), None
    except apt_pkg.Error as err:
        return None, None, None, 'apt cannot open its cache: %s' % err


def held(apt_pkg, pkg):
    """A base package: the private status holds every one of them."""
    return pkg.selected_state == apt_pkg.SELSTATE_HOLD


def lookup(cache, spec):
    name, _, version = spec.partition('=')
    name, _, arch = name.partition(':')
    try:
        return (cache[(name, arch)] if arch else cache[name]), version
    except KeyError:
        fallback('no package ' + spec)


def mark(apt_pkg, cache, depcache, specs):
    """Marks SPECS as apt-get install does; returns the requested packages."""
    fix = apt_pkg.ProblemResolver(depcache)
    requested = []
    with apt_pkg.ActionGroup(depcache):
        for spec in specs:
            pkg, version = lookup(cache, spec)
            if version:
                ver = next((v for v in pkg.version_list if v.ver_str == version), None)
            else:
                ver = depcache.get_candidate_ver(pkg)
            if ver is None or (pkg.current_ver is not None and held(apt_pkg, pkg)):
                fallback('no new version of ' + spec)
            if pkg.current_ver is not None and (not version or pkg.current_ver.id == ver.id):
                # Layered already: apt-get only marks it manually installed.
                depcache.mark_auto(pkg, False)
                continue
            depcache.set_candidate_ver(pkg, ver)
            fix.clear(pkg)
            fix.protect(pkg)
            depcache.mark_install(pkg, False)
            requested.append(pkg)
        # apt-get does this for the requests whose dependencies or recommends
        # are unmet; on the others MarkInstall changes nothing.
        for pkg in requested:
            depcache.mark_install(pkg, True)
        # apt-get calls the resolver in any case; with nothing broken it
        # changes nothing, and scoring every package of the lists is most of
        # the time a small install takes to resolve.
        if depcache.broken_count > 0:
            try:
                fix.resolve(True)
            except apt_pkg.Error:
                fallback('apt cannot add these packages alone')
    return requested


def autoremove(apt_pkg, cache, depcache, names):
    """NAMES marked automatically installed, then the layered packages that no
    request needs removed (`apt-mark auto` and `apt-get autoremove`): a dropped
    request whose package another one needs stays, as a dependency.

    The sweep is deblayer's, over layered packages only, from the requests that
    stay: apt's own also starts from the base's essential and important
    packages, and would keep what only they recommend (apt recommends
    ca-certificates), which a state derived without the dropped requests does
    not have."""
    with apt_pkg.ActionGroup(depcache):
        for name in names:
            pkg, _ = lookup(cache, name)
            depcache.mark_auto(pkg, True)
    layered = [p for p in cache.packages if p.current_ver is not None and not held(apt_pkg, p)]
    kinds = ['PreDepends', 'Depends']
    if apt_pkg.config.find_b('APT::Install-Recommends', True):
        kinds.append('Recommends')
    needed = set()

    def visit(pkg):
        if pkg.id in needed:
            return
        needed.add(pkg.id)
        for kind in kinds:
            for group in pkg.current_ver.depends_list.get(kind, []):
                for dep in group:
                    for target in dep.all_targets():
                        owner = target.parent_pkg
                        if owner.current_ver is not None and owner.current_ver.id == target.id and not held(apt_pkg, owner):
                            visit(owner)

    for pkg in layered:
        if not depcache.is_auto_installed(pkg):
            visit(pkg)
    with apt_pkg.ActionGroup(depcache):
        for pkg in layered:
            if pkg.id not in needed:
                depcache.mark_delete(pkg, False)
    return layered


def changes(cache, depcache, seeds):
    """The packages whose marks changed. apt keeps no list of them, and asking
    every package of the lists costs as much as the marking. Marks spread from
    the requests (or the removed layered packages) along dependencies, Breaks
    and Conflicts included, both ways: to what a changed package depends on,
    and to installed packages that depend on it or on what it provides. A walk
    along those finds them; apt's counts of installs and removals tell whether
    it found them all, and if not (apt also upgrades the installed packages of
    a new package's source, which no dependency names) every package is
    asked."""
    found, seen, todo = [], set(), list(seeds)

    def installed_dependers(pkg):
        todo.extend(d.parent_pkg for d in pkg.rev_depends_list if d.parent_pkg.current_ver is not None)

    while todo:
        pkg = todo.pop()
        if pkg.id in seen:
            continue
        seen.add(pkg.id)
        if depcache.marked_keep(pkg):
            continue
        found.append(pkg)
        installed_dependers(pkg)
        for ver in (depcache.get_candidate_ver(pkg), pkg.current_ver):
            if ver is None:
                continue
            for groups in ver.depends_list.values():
                for group in groups:
                    for dep in group:
                        todo.append(dep.target_pkg)
                        todo.extend(t.parent_pkg for t in dep.all_targets())
            for name, _, _ in ver.provides_list:
                try:
                    installed_dependers(cache[(name, pkg.architecture)])
                except KeyError:
                    pass
    removals = sum(1 for p in found if depcache.marked_delete(p))
    if removals != depcache.del_count or len(found) - removals != depcache.inst_count:
        found = [p for p in cache.packages if not depcache.marked_keep(p)]
    return sorted(found, key=lambda p: (p.name, p.architecture))


def install_order(requested, marked, chosen):
    """Dependencies before the packages that need them (apt-get's order comes
    from its own pass over the whole installation, which this leaves out)."""
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
    return order


def release(ver):
    """apt's VerIterator::RelStr: "Debian:12.12/oldstable", as apt-get prints it."""
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


def describe(apt_pkg, cache, order, chosen):
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
            'current': pkg.current_ver.ver_str if pkg.current_ver else None,
        })
    return packages


def removed_packages(depcache, changed):
    return [{
        'name': p.name,
        'version': p.current_ver.ver_str,
        'architecture': p.current_ver.arch,
        'installedSize': p.current_ver.installed_size,
    } for p in changed if depcache.marked_delete(p)]


def main():
    apt_pkg, cache, depcache, failed = open_cache(json.loads(sys.argv[1]))
    line = sys.stdin.readline()
    if not line:
        sys.exit(0)
    if failed is not None:
        fallback(failed)
    request = json.loads(line)

    # apt's AutoInstall debug lines (why each dependency is there) go to std::clog.
    debug = tempfile.TemporaryFile()
    saved_stderr = os.dup(2)
    os.dup2(debug.fileno(), 2)
    requested = mark(apt_pkg, cache, depcache, request.get('install', []))
    layered = autoremove(apt_pkg, cache, depcache, request.get('auto', [])) if request.get('autoremove') else []
    os.dup2(saved_stderr, 2)
    if depcache.broken_count > 0:
        fallback('apt cannot add these packages alone')
    changed = changes(cache, depcache, requested + layered)
    if any(held(apt_pkg, p) for p in changed):
        fallback('the plan changes a package of the base')
    marked = [p for p in changed if not depcache.marked_delete(p)]

    chosen = {p.id: depcache.get_candidate_ver(p) for p in marked}
    order = install_order(requested, marked, chosen)
    packages = describe(apt_pkg, cache, order, chosen)
    debug.seek(0)
    reply({
        'packages': packages,
        'removed': removed_packages(depcache, changed),
        'autoInstall': debug.read().decode('utf-8', 'replace'),
        # What apt-get's summary counts as not upgraded (apt-private/private-output.cc: KeepCount).
        'notUpgraded': depcache.keep_count,
    })


if __name__ == '__main__':
    main()
