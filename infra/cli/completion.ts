/**
 * `encompass completion bash|zsh`: a completion script generated from the command tree, so it names
 * every command and flag there is. Each command path maps to the words that may follow it.
 */
import type { Command } from 'commander';

/** `"" → top-level commands and flags`, `"clones" → its subcommands and flags`, … */
export function completionTree(program: Command): Map<string, string[]> {
  const tree = new Map<string, string[]>();
  const walk = (cmd: Command, path: string) => {
    const words = [
      ...cmd.commands.flatMap((c) => [c.name(), ...c.aliases()]),
      ...cmd.options.flatMap((o) => [o.long, o.short].filter((x): x is string => Boolean(x))),
      '--help',
    ];
    tree.set(path, [...new Set(words)]);
    for (const c of cmd.commands) for (const n of [c.name(), ...c.aliases()]) walk(c, path ? `${path} ${n}` : n);
  };
  walk(program, '');
  return tree;
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export function bashCompletion(program: Command): string {
  const entries = [...completionTree(program)].map(([k, v]) => `  [${quote(k)}]=${quote(v.join(' '))}`);
  return `# encompass completion for bash: source <(encompass completion bash)
declare -gA _encompass_tree=(
${entries.join('\n')}
)
_encompass() {
  local cur=\${COMP_WORDS[COMP_CWORD]} p='' w i
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=\${COMP_WORDS[i]}
    [[ $w == -* ]] && continue
    [[ -n \${_encompass_tree["\${p:+$p }$w"]+x} ]] && p="\${p:+$p }$w"
  done
  COMPREPLY=($(compgen -W "\${_encompass_tree[$p]}" -- "$cur"))
}
complete -F _encompass encompass
`;
}

export function zshCompletion(program: Command): string {
  const entries = [...completionTree(program)].map(([k, v]) => `  ${quote(k)} ${quote(v.join(' '))}`);
  return `#compdef encompass
# encompass completion for zsh: source <(encompass completion zsh), or save it as _encompass in $fpath
typeset -gA _encompass_tree
_encompass_tree=(
${entries.join('\n')}
)
_encompass() {
  local cmdpath='' w
  for w in \${words[2,CURRENT-1]}; do
    [[ $w == -* ]] && continue
    (( \${+_encompass_tree[\${cmdpath:+$cmdpath }$w]} )) && cmdpath="\${cmdpath:+$cmdpath }$w"
  done
  compadd -- \${=_encompass_tree[$cmdpath]}
}
compdef _encompass encompass
`;
}
