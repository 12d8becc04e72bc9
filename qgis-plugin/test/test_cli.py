"""Unit tests of the plugin's QGIS-free logic (segearth/cli.py): progress-line parsing, CLI discovery, command
lines, and running / cancelling a CLI process. Plain python3, no QGIS:
    python3 -m unittest discover -s qgis-plugin/test -v
"""
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import textwrap
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
from segearth import cli  # noqa: E402


def write_executable(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(text)
    os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)
    return path


class ParseStderrLine(unittest.TestCase):
    def test_progress_lines(self):
        kind, value = cli.parse_stderr_line('{"type":"progress","fraction":0.25,"stage":"tiles","message":"Tile 2 of 8"}\n')
        self.assertEqual(kind, 'progress')
        self.assertEqual(value, {'fraction': 0.25, 'stage': 'tiles', 'message': 'Tile 2 of 8'})
        # No message: the stage is shown; fractions are clamped to [0, 1].
        self.assertEqual(cli.parse_stderr_line('{"type":"progress","fraction":1.5,"stage":"polygonize"}')[1],
                         {'fraction': 1.0, 'stage': 'polygonize', 'message': 'polygonize'})

    def test_error_hint_warning_and_other_lines(self):
        self.assertEqual(cli.parse_stderr_line('error: No model bundle folder at /x.\n'), ('error', 'No model bundle folder at /x.'))
        self.assertEqual(cli.parse_stderr_line('  hint: Pass a bundle folder.\n'), ('hint', 'Pass a bundle folder.'))
        self.assertEqual(cli.parse_stderr_line('warning: tiny-test is a test fixture\n'), ('warning', 'tiny-test is a test fixture'))
        self.assertEqual(cli.parse_stderr_line('CPU execution provider\n'), ('log', 'CPU execution provider'))
        # JSON that is not a progress line, and broken JSON, are plain log lines.
        self.assertEqual(cli.parse_stderr_line('{"type":"other"}')[0], 'log')
        self.assertEqual(cli.parse_stderr_line('{"type":"progress", oops')[0], 'log')
        self.assertEqual(cli.parse_stderr_line('{"type":"progress","fraction":"x"}')[0], 'log')


class FindCli(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.tmp)
        self.no_path = lambda name: None

    def test_configured_launcher_js_checkout_and_missing(self):
        launcher = write_executable(os.path.join(self.tmp, 'bin', 'segearth'), '#!/bin/sh\n')
        self.assertEqual(cli.find_cli(launcher, env={}, which=self.no_path).argv, [launcher])
        js = write_executable(os.path.join(self.tmp, 'repo', 'bin', 'segearth.js'), '')
        node = lambda name: '/usr/bin/node' if name == 'node' else None
        self.assertEqual(cli.find_cli(js, env={}, which=node).argv, ['/usr/bin/node', js])
        # A source checkout folder means its bin/segearth.js.
        self.assertEqual(cli.find_cli(os.path.join(self.tmp, 'repo'), env={}, which=node).argv, ['/usr/bin/node', js])
        with self.assertRaisesRegex(cli.CliNotFound, 'Node.js'):
            cli.find_cli(js, env={}, which=self.no_path)
        with self.assertRaisesRegex(cli.CliNotFound, 'provider settings'):
            cli.find_cli(os.path.join(self.tmp, 'nope'), env={}, which=self.no_path)

    def test_setting_wins_over_env_which_wins_over_path(self):
        a = write_executable(os.path.join(self.tmp, 'a', 'segearth'), '')
        b = write_executable(os.path.join(self.tmp, 'b', 'segearth'), '')
        on_path = lambda name: '/usr/local/bin/segearth' if name == 'segearth' else None
        self.assertEqual(cli.find_cli(a, env={'SEGEARTH_CLI': b}, which=on_path).argv, [a])
        self.assertEqual(cli.find_cli('', env={'SEGEARTH_CLI': b}, which=on_path).origin, 'SEGEARTH_CLI')
        found = cli.find_cli('', env={}, which=on_path)
        self.assertEqual((found.argv, found.origin), (['/usr/local/bin/segearth'], 'PATH'))

    def test_installed_app_runs_its_cli_with_electron_as_node(self):
        appimage = write_executable(os.path.join(self.tmp, 'Applications', 'SegEarth Desktop-0.1.0.AppImage'), '')
        found = cli.find_cli('', env={}, platform='linux', home=self.tmp, which=self.no_path)
        self.assertEqual(found.argv, [appimage, '-e', cli.APP_BOOT, '--'])
        self.assertEqual(found.env, {'ELECTRON_RUN_AS_NODE': '1'})
        self.assertEqual(found.origin, 'installed app')
        # The deb's /usr/bin/segearth-desktop on PATH, and a macOS .app bundle chosen in the settings.
        deb = write_executable(os.path.join(self.tmp, 'opt', 'segearth-desktop'), '')
        on_path = lambda name: deb if name == 'segearth-desktop' else None
        self.assertEqual(cli.find_cli('', env={}, which=on_path).argv[0], deb)
        app = os.path.join(self.tmp, 'SegEarth Desktop.app')
        os.makedirs(os.path.join(app, 'Contents', 'MacOS'))
        self.assertEqual(cli.find_cli(app, env={}, which=self.no_path).argv[0],
                         os.path.join(app, 'Contents', 'MacOS', 'SegEarth Desktop'))

    def test_install_locations_per_platform(self):
        win = cli.install_locations('win32', {'LOCALAPPDATA': 'C:\\Users\\ana\\AppData\\Local'}, 'C:\\Users\\ana')
        self.assertEqual(win[0], 'C:\\Users\\ana\\AppData\\Local\\Programs\\SegEarth Desktop\\SegEarth Desktop.exe')
        self.assertEqual(win[1], 'C:\\Program Files\\SegEarth Desktop\\SegEarth Desktop.exe')
        self.assertEqual(cli.install_locations('darwin', {}, '/Users/ana')[0], '/Applications/SegEarth Desktop.app')
        linux = cli.install_locations('linux', {}, '/home/ana')
        self.assertEqual(linux[0], '/opt/SegEarth Desktop/segearth-desktop')
        self.assertIn('/home/ana/Applications/SegEarth*Desktop*.AppImage', linux)

    def test_nothing_found_says_where_it_looked_and_what_to_do(self):
        with self.assertRaises(cli.CliNotFound) as caught:
            cli.find_cli('', env={}, platform='linux', home=self.tmp, which=self.no_path)
        message = str(caught.exception)
        self.assertIn('/opt/SegEarth Desktop/segearth-desktop', message)
        self.assertIn('Processing > Options > Providers > SegEarth', message)

    @unittest.skipUnless(shutil.which('node'), 'node is not on PATH')
    def test_app_boot_loads_the_cli_from_the_app_resources_with_the_arguments_in_place(self):
        # A stand-in app folder: the node binary (hard link or copy) next to resources/app.asar/dist/cli/index.js.
        app = os.path.join(self.tmp, 'app')
        entry = os.path.join(app, 'resources', 'app.asar', 'dist', 'cli', 'index.js')
        os.makedirs(os.path.dirname(entry))
        with open(entry, 'w') as f:
            f.write('console.log(JSON.stringify(process.argv.slice(2)));\n')
        exe = os.path.join(app, 'segearth-desktop')
        node = os.path.realpath(shutil.which('node'))
        try:
            os.link(node, exe)
        except OSError:
            shutil.copy2(node, exe)
        command = cli.command_for(exe, 'test')
        out = subprocess.run(command.argv + ['models', 'list', '--json'], capture_output=True, text=True, check=True,
                             env=dict(os.environ, **command.env)).stdout
        self.assertEqual(json.loads(out), ['models', 'list', '--json'])


class CommandLines(unittest.TestCase):
    def test_ask(self):
        self.assertEqual(
            cli.ask_args('/d/scene.tif', 'where are the roads?', '/o/a.gpkg', model='tiny-test', threshold=0.35,
                         min_area=100.0, strategy='tiled', aoi=(500100.5, 3999400, 500900, 3999900.25), probability='/o/p.tif'),
            ['ask', '/d/scene.tif', 'where are the roads?', '-o', '/o/a.gpkg', '--threshold', '0.35', '--min-area', '100',
             '--strategy', 'tiled', '--model', 'tiny-test', '--aoi', '500100.5,3999400,500900,3999900.25',
             '--probability', '/o/p.tif', '--overwrite', '--json'])
        plain = cli.ask_args('s.tif', 'q', 'o.gpkg', aoi='/t/aoi.gpkg')
        self.assertNotIn('--model', plain)
        self.assertNotIn('--probability', plain)
        self.assertEqual(plain[plain.index('--aoi') + 1], '/t/aoi.gpkg')

    def test_batch_vectorize_models(self):
        self.assertEqual(
            cli.batch_args('/in', cli.split_questions('roads?\n\n  roofs?  \n'), '/out', resume=True, strategy='view'),
            ['batch', '/in', '-q', 'roads?', '-q', 'roofs?', '-o', '/out', '--threshold', '0.5', '--min-area', '0',
             '--strategy', 'view', '--resume', '--json'])
        self.assertEqual(cli.vectorize_args('m.tif', 'o.shp', band=2, threshold=128.0, simplify='1px'),
                         ['vectorize', 'm.tif', '-o', 'o.shp', '--band', '2', '--min-area', '0', '--threshold', '128',
                          '--simplify', '1px', '--overwrite', '--json'])
        self.assertNotIn('--threshold', cli.vectorize_args('m.tif', 'o.gpkg'))
        self.assertEqual(cli.models_list_args(), ['models', 'list', '--json'])
        self.assertEqual(cli.models_get_args('earthreason', precision='cpu', replace=True),
                         ['models', 'get', 'earthreason', '--revision', 'main', '--precision', 'cpu', '--replace', '--json'])
        self.assertEqual(cli.models_get_args('org/name', revision='v1'), ['models', 'get', 'org/name', '--revision', 'v1', '--json'])
        self.assertEqual(cli.models_convert_args('/ckpt'), ['models', 'convert', '/ckpt', '--precision', 'fp32', '--install', '--json'])
        self.assertEqual(cli.models_convert_args('/ckpt', 'fp16', out='/b', replace=True),
                         ['models', 'convert', '/ckpt', '--precision', 'fp16', '-o', '/b', '--replace', '--json'])


FAKE_CLI = textwrap.dedent('''
    import json, os, signal, sys, time
    mode, marker = sys.argv[1], sys.argv[2]
    def progress(f, m):
        sys.stderr.write(json.dumps({"type": "progress", "fraction": f, "stage": "s", "message": m}) + "\\n")
        sys.stderr.flush()
    if mode == "ok":
        sys.stderr.write("CPU execution provider\\nwarning: a test fixture\\n")
        progress(0.5, "half")
        progress(1, "done")
        print(json.dumps({"featureCount": 3}))
    elif mode == "fail":
        sys.stderr.write("error: The raster x.txt is not a raster GDAL can read.\\n  hint: Open a GeoTIFF.\\n")
        sys.exit(3)
    else:  # "slow": cancellable like the CLI (Ctrl-C removes its temporary file, exit 130), or "stubborn"
        open(marker, "w").close()
        if mode == "slow":
            def on_int(*_):
                os.remove(marker)
                sys.exit(130)
            signal.signal(signal.SIGINT, on_int)
        else:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        for i in range(600):
            progress(i / 600, "working")
            time.sleep(0.05)
''')


class RunCli(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.tmp)
        self.script = os.path.join(self.tmp, 'fake_cli.py')
        with open(self.script, 'w') as f:
            f.write(FAKE_CLI)
        self.command = cli.CliCommand([sys.executable, self.script])
        self.marker = os.path.join(self.tmp, 'partial.tmp')

    def test_progress_logs_and_stdout(self):
        progress, logs = [], []
        out = cli.run_cli(self.command, ['ok', self.marker], lambda f, m: progress.append((f, m)), lambda k, t: logs.append((k, t)))
        self.assertEqual(json.loads(out), {'featureCount': 3})
        self.assertEqual(progress, [(0.5, 'half'), (1.0, 'done')])
        self.assertEqual(logs, [('log', 'CPU execution provider'), ('warning', 'a test fixture')])

    def test_failure_raises_the_cli_message_and_hint(self):
        with self.assertRaises(cli.CliError) as caught:
            cli.run_cli(self.command, ['fail', self.marker])
        self.assertEqual(caught.exception.exit_code, 3)
        self.assertEqual(str(caught.exception), 'The raster x.txt is not a raster GDAL can read.\nHint: Open a GeoTIFF.')

    @unittest.skipUnless(os.name == 'posix', 'Ctrl-C is sent as SIGINT on POSIX')
    def test_cancel_interrupts_the_cli_which_cleans_up(self):
        seen = []
        with self.assertRaises(cli.CliCancelled):
            cli.run_cli(self.command, ['slow', self.marker], lambda f, m: seen.append(f), is_cancelled=lambda: len(seen) >= 3)
        self.assertFalse(os.path.exists(self.marker))

    def test_cancel_kills_a_cli_that_ignores_ctrl_c_after_the_grace_period(self):
        seen = []
        with self.assertRaises(cli.CliCancelled):
            cli.run_cli(self.command, ['stubborn', self.marker], lambda f, m: seen.append(f),
                        is_cancelled=lambda: len(seen) >= 3, grace_seconds=0.5)
        self.assertLess(len(seen), 200)  # stopped long before its 600 steps

    def test_a_cli_that_cannot_start_is_an_error(self):
        with self.assertRaisesRegex(cli.CliError, 'Could not start'):
            cli.run_cli(cli.CliCommand([os.path.join(self.tmp, 'missing')]), [])


if __name__ == '__main__':
    unittest.main()
