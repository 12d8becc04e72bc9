"""Driving the ``segearth`` command line from QGIS, without importing QGIS (unit-tested with plain python3).

- ``find_cli``: where the CLI is -- the provider's setting, ``SEGEARTH_CLI``, ``segearth`` on PATH, or the
  installed SegEarth Desktop app (deb, AppImage, Windows, macOS), whose bundled CLI runs with the app's own
  Electron as Node (``ELECTRON_RUN_AS_NODE=1``): nothing is installed into QGIS's Python.
- ``parse_stderr_line``: the CLI's ``--json`` progress lines and its ``error:`` / ``  hint:`` lines.
- ``run_cli``: runs one command, reports progress, stops it on cancel (Ctrl-C first, so the CLI removes its
  temporary files; killed after a grace period) and raises the CLI's own error message on failure.
- ``*_args``: the command lines of the algorithms.
"""
import glob
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time

APP_NAME = 'SegEarth Desktop'
CANCELLED_EXIT = 130
# Run by the app's Electron binary as Node: loads the CLI from the app's resources (app.asar is readable
# there) with the arguments after "--" in their usual place (process.argv[2:]).
APP_BOOT = (
    "const p=require('path'),u=require('url');"
    "const r=process.resourcesPath||(process.platform==='darwin'"
    "?p.join(p.dirname(process.execPath),'..','Resources'):p.join(p.dirname(process.execPath),'resources'));"
    "const c=p.join(r,'app.asar','dist','cli','index.js');process.argv.splice(1,0,c);"
    "import(u.pathToFileURL(c).href).catch(e=>{console.error('error: '+e.message);process.exitCode=1;});"
)


class CliNotFound(Exception):
    """No SegEarth CLI found; the message says where it looked and how to set it."""


class CliError(Exception):
    """The CLI failed; the message is the CLI's own ``error:`` and ``hint:`` lines."""

    def __init__(self, message, exit_code):
        super().__init__(message)
        self.exit_code = exit_code


class CliCancelled(Exception):
    """The run was cancelled and the CLI stopped."""


class CliCommand:
    """The argv prefix and extra environment that start the CLI."""

    def __init__(self, argv, env=None, origin=''):
        self.argv = list(argv)
        self.env = dict(env or {})
        self.origin = origin

    def __repr__(self):
        return 'CliCommand({!r}, {!r}, {!r})'.format(self.argv, self.env, self.origin)


def _is_app_executable(path):
    name = os.path.basename(path.rstrip('/\\')).lower()
    return (name.endswith('.appimage') or name.startswith('segearth-desktop') or name.startswith('segearth desktop')
            or name.endswith('.app'))


def _app_command(path, origin):
    if path.lower().rstrip('/').endswith('.app'):  # a macOS bundle folder
        path = os.path.join(path, 'Contents', 'MacOS', APP_NAME)
    return CliCommand([path, '-e', APP_BOOT, '--'], {'ELECTRON_RUN_AS_NODE': '1'}, origin)


def command_for(path, origin, which=shutil.which):
    """The command that runs the CLI at ``path``: a ``segearth`` launcher, a ``.js`` entry (run with node),
    a source checkout or the app's folder, or the app's executable. None when ``path`` is none of these."""
    if not path:
        return None
    if os.path.isdir(path):
        if path.lower().rstrip('/\\').endswith('.app'):
            return _app_command(path, origin)
        checkout = os.path.join(path, 'bin', 'segearth.js')
        if os.path.isfile(checkout):
            return command_for(checkout, origin, which)
        for exe in ('segearth-desktop', APP_NAME + '.exe', APP_NAME):
            if os.path.isfile(os.path.join(path, exe)):
                return _app_command(os.path.join(path, exe), origin)
        return None
    if not os.path.isfile(path):
        return None
    if path.lower().endswith(('.js', '.mjs')):
        node = which('node')
        if not node:
            raise CliNotFound('{} needs Node.js, which is not on PATH. Install Node.js or choose the '
                              'SegEarth Desktop app in the provider settings.'.format(path))
        return CliCommand([node, path], {}, origin)
    if _is_app_executable(path):
        return _app_command(path, origin)
    return CliCommand([path], {}, origin)


def install_locations(platform, env, home):
    """Where the SegEarth Desktop installers put the app, in order (globs allowed)."""
    if platform.startswith('win'):
        roots = [env.get('LOCALAPPDATA', os.path.join(home, 'AppData', 'Local')) + '\\Programs',
                 env.get('PROGRAMFILES', 'C:\\Program Files')]
        return [root + '\\' + APP_NAME + '\\' + APP_NAME + '.exe' for root in roots]
    if platform == 'darwin':
        return ['/Applications/{0}.app'.format(APP_NAME), os.path.join(home, 'Applications', APP_NAME + '.app')]
    return ['/opt/{}/segearth-desktop'.format(APP_NAME)] + [
        os.path.join(folder, pattern)
        for folder in (os.path.join(home, 'Applications'), os.path.join(home, '.local', 'bin'), os.path.join(home, 'Downloads'))
        for pattern in ('SegEarth*Desktop*.AppImage', 'segearth-desktop*.AppImage')
    ]


def find_cli(configured='', env=None, platform=None, home=None, which=shutil.which):
    """The CLI to run: the configured path, else $SEGEARTH_CLI, else ``segearth`` or ``segearth-desktop``
    on PATH, else the installed app. Raises CliNotFound naming the places searched."""
    env = os.environ if env is None else env
    platform = platform or sys.platform
    home = home or os.path.expanduser('~')
    if configured:
        found = command_for(configured, 'provider setting', which)
        if found is None:
            raise CliNotFound('The SegEarth CLI set in the provider settings ({}) does not exist or is not the '
                              'segearth command or the SegEarth Desktop app.'.format(configured))
        return found
    if env.get('SEGEARTH_CLI'):
        found = command_for(env['SEGEARTH_CLI'], 'SEGEARTH_CLI', which)
        if found is None:
            raise CliNotFound('SEGEARTH_CLI={} does not exist.'.format(env['SEGEARTH_CLI']))
        return found
    on_path = which('segearth')
    if on_path:
        return CliCommand([on_path], {}, 'PATH')
    app = which('segearth-desktop')
    if app:
        return _app_command(os.path.realpath(app), 'PATH')
    searched = install_locations(platform, env, home)
    for pattern in searched:
        for path in sorted(glob.glob(pattern), reverse=True):  # the newest version first
            found = command_for(path, 'installed app', which)
            if found is not None:
                return found
    raise CliNotFound(
        'SegEarth Desktop was not found (searched: the provider setting, SEGEARTH_CLI, segearth and '
        'segearth-desktop on PATH, {}). Install SegEarth Desktop, or set "SegEarth CLI" in Processing > '
        'Options > Providers > SegEarth to the app or to the segearth command.'.format(', '.join(searched)))


def parse_stderr_line(line):
    """One stderr line of the CLI as (kind, value): ('progress', {fraction, stage, message}),
    ('error', text), ('hint', text), ('warning', text) or ('log', text)."""
    text = line.rstrip('\r\n')
    stripped = text.strip()
    if stripped.startswith('{'):
        try:
            data = json.loads(stripped)
        except ValueError:
            data = None
        if isinstance(data, dict) and data.get('type') == 'progress' and isinstance(data.get('fraction'), (int, float)):
            return 'progress', {
                'fraction': min(1.0, max(0.0, float(data['fraction']))),
                'stage': str(data.get('stage', '')),
                'message': str(data.get('message') or data.get('stage') or ''),
            }
    if text.startswith('error: '):
        return 'error', text[len('error: '):]
    if stripped.startswith('hint: '):
        return 'hint', stripped[len('hint: '):]
    if text.startswith('warning: '):
        return 'warning', text[len('warning: '):]
    return 'log', text


def _pump(stream, sink, tag):
    for line in iter(stream.readline, ''):
        sink.put((tag, line))
    sink.put((tag, None))


def _interrupt(process):
    """Ctrl-C for the CLI (it cancels and removes its temporary files); terminate where that is impossible."""
    if os.name == 'posix':
        process.send_signal(signal.SIGINT)
    else:
        process.terminate()


def run_cli(command, args, on_progress=None, on_log=None, is_cancelled=lambda: False, grace_seconds=20.0, cwd=None,
            cancelled_message='Cancelled: the SegEarth CLI stopped and left no output.'):
    """Runs ``command`` + ``args``; returns its stdout. on_progress(fraction, message) for progress lines,
    on_log(kind, text) for the other stderr lines. Raises CliCancelled or CliError (the CLI's messages)."""
    env = dict(os.environ)
    env.update(command.env)
    popen_extra = {}
    if os.name != 'posix':
        popen_extra['creationflags'] = getattr(subprocess, 'CREATE_NO_WINDOW', 0)
    try:
        process = subprocess.Popen(command.argv + list(args), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, env=env, cwd=cwd, encoding='utf-8', errors='replace',
                                   **popen_extra)
    except OSError as err:
        raise CliError('Could not start the SegEarth CLI ({}): {}'.format(' '.join(command.argv[:1]), err), -1)
    lines = queue.Queue()
    for stream, tag in ((process.stdout, 'out'), (process.stderr, 'err')):
        threading.Thread(target=_pump, args=(stream, lines, tag), daemon=True).start()
    out, errors, open_streams = [], [], 2
    interrupted_at = None
    while open_streams > 0 or process.poll() is None:
        if interrupted_at is None and is_cancelled():
            interrupted_at = time.monotonic()
            _interrupt(process)
        if interrupted_at is not None and time.monotonic() - interrupted_at > grace_seconds and process.poll() is None:
            process.kill()
        try:
            tag, line = lines.get(timeout=0.1)
        except queue.Empty:
            continue
        if line is None:
            open_streams -= 1
            continue
        if tag == 'out':
            out.append(line)
            continue
        kind, value = parse_stderr_line(line)
        if kind == 'progress':
            if on_progress:
                on_progress(value['fraction'], value['message'])
        elif kind in ('error', 'hint'):
            errors.append(value if kind == 'error' else 'Hint: ' + value)
        elif value and on_log:
            on_log(kind, value)
    code = process.wait()
    process.stdout.close()
    process.stderr.close()
    # Cancelled after the CLI had finished (status 0): its complete outputs stand.
    if code == CANCELLED_EXIT or (interrupted_at is not None and code != 0):
        raise CliCancelled(cancelled_message)
    if code != 0:
        message = '\n'.join(errors) or 'The SegEarth CLI failed with exit status {}.'.format(code)
        raise CliError(message, code)
    return ''.join(out)


def _number(value):
    return ('%.10g' % value) if isinstance(value, float) else str(value)


def ask_args(raster, question, output, model=None, threshold=0.5, min_area=0.0, strategy='auto', aoi=None,
             probability=None):
    """``segearth ask``. ``aoi``: a polygon file, or (minx, miny, maxx, maxy) in the raster's CRS."""
    args = ['ask', raster, question, '-o', output, '--threshold', _number(threshold), '--min-area', _number(min_area),
            '--strategy', strategy]
    if model:
        args += ['--model', model]
    if aoi:
        args += ['--aoi', aoi if isinstance(aoi, str) else ','.join(_number(float(v)) for v in aoi)]
    if probability:
        args += ['--probability', probability]
    return args + ['--overwrite', '--json']


def batch_args(folder, questions, output, model=None, threshold=0.5, min_area=0.0, strategy='tiled', resume=False):
    args = ['batch', folder]
    for q in questions:
        args += ['-q', q]
    args += ['-o', output, '--threshold', _number(threshold), '--min-area', _number(min_area), '--strategy', strategy]
    if model:
        args += ['--model', model]
    if resume:
        args.append('--resume')
    return args + ['--json']


def vectorize_args(raster, output, band=1, threshold=None, min_area=0.0, simplify=''):
    args = ['vectorize', raster, '-o', output, '--band', str(int(band)), '--min-area', _number(min_area)]
    if threshold is not None:
        args += ['--threshold', _number(threshold)]
    if simplify:
        args += ['--simplify', simplify]
    return args + ['--overwrite', '--json']


def models_list_args():
    return ['models', 'list', '--json']


def models_get_args(source, precision=None, revision='main', replace=False):
    """``segearth models get``: download a released checkpoint from the model hub, convert and install it."""
    args = ['models', 'get', source, '--revision', revision or 'main']
    if precision:
        args += ['--precision', precision]
    if replace:
        args.append('--replace')
    return args + ['--json']


def models_convert_args(checkpoint, precision='fp32', out=None, replace=False):
    """``segearth models convert``: a checkpoint folder into a bundle, installed (default) or written to ``out``."""
    args = ['models', 'convert', checkpoint, '--precision', precision or 'fp32']
    args += ['-o', out] if out else ['--install']
    if replace:
        args.append('--replace')
    return args + ['--json']


def split_questions(text):
    """One question per line; blank lines dropped."""
    return [line.strip() for line in (text or '').splitlines() if line.strip()]
