// deblayer completion bash: the bash completion script, for
// /usr/share/bash-completion/completions/deblayer (the Debian package ships
// it) or `source <(deblayer completion bash)`.

import { Argument, type Command } from 'commander';

export function register(program: Command): void {
  program
    .command('completion')
    .description('print the shell completion script (bash)')
    .addArgument(new Argument('[shell]', 'the shell').choices(['bash']).default('bash'))
    .action(async (_shell: string, _opts: unknown, command: Command) => {
      const [{ bashCompletion }, { VERSION }] = await Promise.all([import('./completion-bash.js'), import('./version.js')]);
      process.stdout.write(bashCompletion(command.parent!, VERSION));
    });
}
