import { describe, expect, it } from 'vitest';
import { filesFromArgv } from '../../electron/args.ts';

const linux = { defaultApp: false, cwd: '/home/ada', platform: 'linux' as const };
const dev = { defaultApp: true, cwd: '/home/ada/gradflow', platform: 'linux' as const };

describe('files named at launch', () => {
  it.each<[string, string[], typeof linux, string[]]>([
    ['an installed app with one file', ['/usr/bin/gradflow', 'model.nngraph'], linux, ['/home/ada/model.nngraph']],
    ['an absolute path', ['/opt/Gradflow/gradflow', '/data/x.nngraph'], linux, ['/data/x.nngraph']],
    ['no file', ['/usr/bin/gradflow'], linux, []],
    ['switches, before and after', ['/usr/bin/gradflow', '--no-sandbox', 'a.nngraph', '--enable-logging'], linux, ['/home/ada/a.nngraph']],
    ['"--" ends the switches', ['/usr/bin/gradflow', '--', '-odd-name.nngraph'], linux, ['/home/ada/-odd-name.nngraph']],
    ['duplicates', ['/usr/bin/gradflow', 'a.nngraph', './a.nngraph', '/home/ada/a.nngraph'], linux, ['/home/ada/a.nngraph']],
    ['several files, in order', ['/usr/bin/gradflow', 'b.nngraph', 'a.nngraph'], linux, ['/home/ada/b.nngraph', '/home/ada/a.nngraph']],
    ['a file:// URL from a Linux desktop', ['/usr/bin/gradflow', 'file:///home/ada/My%20Model.nngraph'], linux, ['/home/ada/My Model.nngraph']],
    ['other URLs', ['/usr/bin/gradflow', 'https://example.com/x.nngraph', 'gradflow://open'], linux, []],
    ['empty arguments', ['/usr/bin/gradflow', ''], linux, []],
    ['from source: the app path is not a file', ['/x/electron', '.', 'model.nngraph'], dev, ['/home/ada/gradflow/model.nngraph']],
    ['from source with switches first', ['/x/electron', '--no-sandbox', '/home/ada/gradflow', '../m.nngraph'], dev, ['/home/ada/m.nngraph']],
    ['from source, nothing to open', ['/x/electron', 'dist/electron/main.cjs'], dev, []],
    ['macOS process serial number', ['/Applications/Gradflow.app/Contents/MacOS/Gradflow', '-psn_0_12345'], { ...linux, platform: 'darwin' as never }, []],
  ])('%s', (_what, argv, ctx, expected) => {
    expect(filesFromArgv(argv, ctx)).toEqual(expected);
  });

  it('a second instance: Chromium switches added to its argv are skipped', () => {
    // What Electron hands to 'second-instance': the new process's argv with switches appended.
    const argv = ['/usr/bin/gradflow', 'other.nngraph', '--allow-file-access-from-files', '--original-process-start-time=13353082069318413'];
    expect(filesFromArgv(argv, { defaultApp: false, cwd: '/tmp/work', platform: 'linux' })).toEqual(['/tmp/work/other.nngraph']);
  });

  it('Windows: a double-clicked file, drive letters, and case-insensitive duplicates', () => {
    const ctx = { defaultApp: false, cwd: 'C:\\Users\\Ada', platform: 'win32' as const };
    expect(filesFromArgv(['C:\\Program Files\\Gradflow\\Gradflow.exe', 'C:\\Users\\Ada\\Model.nngraph', 'c:\\users\\ada\\model.nngraph'], ctx)).toEqual([
      'C:\\Users\\Ada\\Model.nngraph',
    ]);
    expect(filesFromArgv(['Gradflow.exe', 'graphs\\x.nngraph'], ctx)).toEqual(['C:\\Users\\Ada\\graphs\\x.nngraph']);
    expect(filesFromArgv(['Gradflow.exe', 'file:///C:/Users/Ada/y.nngraph'], ctx)).toEqual(['C:\\Users\\Ada\\y.nngraph']);
  });
});
