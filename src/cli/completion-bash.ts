// The bash completion script, made from the command line itself (commander's
// commands, options and arguments), so that it cannot fall behind a new
// option. What a value or an argument completes to is its kind, below.
//
// Package names come from deblayer's own lists, as apt's completion takes
// them from apt's: `apt-cache pkgnames` over the binary cache libapt keeps of
// each source set's lists (srcpkgcache.bin), which answers without parsing
// any list. Layered packages come from the deployments' origin files.

import type { Command, Option } from 'commander';

/** What a word completes to; one-of:A,B for an option or argument with fixed choices. */
export type Kind = 'files' | 'dirs' | 'debs' | 'refs' | 'stateroots' | 'available' | 'available-or-debs' | 'layered' | 'installed' | 'removed' | 'none' | `one-of:${string}`;

const oneOf = (choices: readonly string[] | undefined): Kind | undefined => (choices && choices.length > 0 ? `one-of:${choices.join(',')}` : undefined);

/** Kinds by the name of a value (`--sysroot <dir>`) or an argument (`<rootfs>`). */
const BY_NAME: Record<string, Kind> = {
  dir: 'dirs',
  file: 'files',
  path: 'files',
  keyfile: 'files',
  manifest: 'files',
  rootfs: 'files',
  'file|url': 'files',
  ref: 'refs',
  refspec: 'refs',
  name: 'stateroots',
  package: 'available',
  source: 'files',
  'NAME.raw': 'files',
};

/** Arguments whose kind depends on the command they belong to. */
const BY_ARGUMENT: Record<string, Kind> = {
  'install packages': 'available-or-debs',
  'uninstall packages': 'layered',
  'override remove packages': 'installed',
  'override replace packages': 'available-or-debs',
  'override reset packages': 'removed',
  'sysext packages': 'available-or-debs',
  'deb info file': 'debs',
  'deb contents file': 'debs',
  'deb extract file': 'debs',
};

export interface CommandSpec {
  /** '' for the program, else 'install', 'deb info', ... */
  path: string;
  /** Every flag, short and long. */
  flags: string[];
  /** Flags that take a value, with what the value completes to. */
  valued: [string, Kind][];
  /** What each argument completes to; the last repeats when it is variadic. */
  args: Kind[];
  variadic: boolean;
  subcommands: string[];
}

function placeholder(option: Option): string | undefined {
  return /[<[]([^>\]]+)[>\]]/.exec(option.flags)?.[1];
}

function optionFlags(option: Option): string[] {
  return [option.short, option.long].filter((f): f is string => f !== undefined);
}

export function describeCommands(program: Command): CommandSpec[] {
  const specs: CommandSpec[] = [];
  const walk = (command: Command, path: string): void => {
    const options = command.options as readonly Option[];
    const valued: [string, Kind][] = [];
    for (const o of options) {
      const name = placeholder(o);
      if (name === undefined) continue;
      const kind = oneOf(o.argChoices) ?? BY_NAME[name] ?? 'none';
      for (const f of optionFlags(o)) valued.push([f, kind]);
    }
    const args = command.registeredArguments.map((a) => oneOf(a.argChoices) ?? BY_ARGUMENT[`${path} ${a.name()}`] ?? BY_NAME[a.name()] ?? 'none');
    const subcommands = command.commands.map((c) => c.name());
    specs.push({
      path,
      flags: [...options.flatMap(optionFlags), '-h', '--help'],
      valued,
      args,
      variadic: command.registeredArguments.at(-1)?.variadic ?? false,
      subcommands: subcommands.length > 0 ? [...subcommands, ...(path === '' ? ['help'] : [])] : [],
    });
    for (const c of command.commands) walk(c, path === '' ? c.name() : `${path} ${c.name()}`);
  };
  walk(program, '');
  return specs;
}

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

function specCase(spec: CommandSpec): string {
  const args = spec.args.map((k, i) => (spec.variadic && i === spec.args.length - 1 ? `${k}...` : k));
  return [
    `    ${quote(spec.path)})`,
    `      flags=${quote(spec.flags.join(' '))}`,
    `      valued=${quote(spec.valued.map(([f, k]) => `${f}=${k}`).join(' '))}`,
    `      args=${quote(args.join(' '))}`,
    `      subs=${quote(spec.subcommands.join(' '))} ;;`,
  ].join('\n');
}

export function bashCompletion(program: Command, version: string): string {
  const specs = describeCommands(program);
  return `# bash completion for deblayer(8)                        -*- shell-script -*-
# Made by \`deblayer completion bash\` (deblayer ${version}) from its command line.

# _deblayer_spec COMMAND: sets flags, valued (FLAG=KIND ...), args (KIND ...,
# the last with ... when it repeats) and subs (subcommands) of COMMAND.
_deblayer_spec() {
  flags= valued= args= subs=
  case $1 in
${specs.map(specCase).join('\n')}
  esac
}

# _deblayer_kind COMMAND FLAG: what FLAG's value completes to, if FLAG takes one
# (its own command's options, or the global ones).
_deblayer_kind() {
  local flags valued args subs v c
  for c in "$1" ''; do
    _deblayer_spec "$c"
    for v in $valued; do
      [[ \${v%%=*} == "$2" ]] && { printf '%s\\n' "\${v#*=}"; return 0; }
    done
    [[ -z $1 ]] && break
  done
  return 1
}

# _deblayer_reply KIND: COMPREPLY for the word being completed (cur).
_deblayer_reply() {
  local f words=
  case $1 in
    files) compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -f -- "$cur"); return ;;
    dirs) compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -d -- "$cur"); return ;;
    debs) compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -d -- "$cur"; compgen -f -X '!*.deb' -- "$cur"); return ;;
    available-or-debs)
      # ./file.deb as apt takes it: a word with a slash is a file.
      if [[ $cur == */* || $cur == .* || $cur == ~* ]]; then _deblayer_reply debs; return; fi
      _deblayer_reply available; return ;;
    available)
      for f in "$cache"/sources/*/srcpkgcache.bin; do
        [[ -r $f ]] && words+=" $(apt-cache -o Dir::Cache::pkgcache="$f" -o Dir::Cache::srcpkgcache= --no-generate pkgnames "$cur" 2>/dev/null)"
      done ;;
    layered)
      for f in "$sysroot"/ostree/deploy/*/deploy/*.origin; do
        [[ -r $f ]] && words+=" $(sed -n 's/^requested=//p' "$f" | tr ';' ' ')"
      done ;;
    installed)
      # What dpkg has installed in the deployment (the booted host's, or the first of an offline sysroot).
      for f in "$sysroot"/usr/lib/sysimage/dpkg "$sysroot"/ostree/deploy/*/deploy/*/usr/lib/sysimage/dpkg; do
        [[ -d $f ]] && { words=$(dpkg-query --admindir="$f" -W -f '\${Package}\\n' 2>/dev/null); break; }
      done ;;
    removed)
      for f in "$sysroot"/ostree/deploy/*/deploy/*.origin; do
        [[ -r $f ]] && words+=" $(sed -n -e 's/^remove=//p' -e 's/^replace=//p' -e 's/^replace-local=//p' "$f" | tr ';' '\\n' | sed 's/[=_].*//')"
      done ;;
    refs) words=$(ostree --repo="\${repo:-$sysroot/ostree/repo}" refs 2>/dev/null | grep -v -e '^deblayer/' -e '^ostree/') ;;
    stateroots) [[ -d $sysroot/ostree/deploy ]] && words=$(command ls "$sysroot/ostree/deploy") ;;
    one-of:*) words=\${1#one-of:} words=\${words//,/ } ;;
  esac
  mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
}

_deblayer() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]}
  local sysroot=/ cache=/var/cache/deblayer repo= cmd= given=0 i w kind
  local flags valued args subs
  COMPREPLY=()
  # --opt=value: bash splits it at the =.
  if [[ $cur == = ]]; then cur=; elif [[ $prev == = ]]; then prev=\${COMP_WORDS[COMP_CWORD-2]}; fi
  [[ $prev == = ]] && prev=\${COMP_WORDS[COMP_CWORD-2]}
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=\${COMP_WORDS[i]}
    if [[ $w == -* ]]; then
      _deblayer_kind "$cmd" "$w" >/dev/null || continue
      [[ \${COMP_WORDS[i+1]} == = ]] && ((i++))
      ((i + 1 < COMP_CWORD)) || break
      ((i++))
      case $w in
        --sysroot) sysroot=\${COMP_WORDS[i]/#\\~/$HOME} ;;
        --cache-dir) cache=\${COMP_WORDS[i]/#\\~/$HOME} ;;
        --repo) repo=\${COMP_WORDS[i]/#\\~/$HOME} ;;
      esac
      continue
    fi
    _deblayer_spec "$cmd"
    if [[ -n $subs && $given -eq 0 && " $subs " == *" $w "* ]]; then
      cmd=\${cmd:+$cmd }$w
    else
      ((given++))
    fi
  done
  if [[ $prev == -* ]] && kind=$(_deblayer_kind "$cmd" "$prev"); then
    _deblayer_reply "$kind"
    return
  fi
  if [[ $cur == -* ]]; then
    _deblayer_spec ''
    w=$flags
    [[ -n $cmd ]] && { _deblayer_spec "$cmd"; w+=" $flags"; }
    mapfile -t COMPREPLY < <(compgen -W "$w" -- "$cur")
    return
  fi
  _deblayer_spec "$cmd"
  if [[ $cmd == help ]]; then
    _deblayer_spec ''
    ((given == 0)) && mapfile -t COMPREPLY < <(compgen -W "$subs" -- "$cur")
    return
  fi
  if [[ -n $subs ]]; then
    ((given == 0)) && mapfile -t COMPREPLY < <(compgen -W "$subs" -- "$cur")
    return
  fi
  read -ra args <<<"$args"
  ((\${#args[@]} > 0)) || return
  if ((given < \${#args[@]})); then kind=\${args[given]}; else kind=\${args[-1]}; fi
  [[ \${args[-1]} == *... || given -lt \${#args[@]} ]] || return
  _deblayer_reply "\${kind%...}"
}
complete -F _deblayer deblayer
`;
}
