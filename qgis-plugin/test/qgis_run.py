"""Runs segearth:ask in PyQGIS (processing.run, as the Processing dialog does) and prints what happened as JSON.
Modes:
  cancel  a feedback presses Cancel once the model has started (first progress above 0 %); reports the
          exception message and whether the output or temporary files exist;
  layer   INPUT is opened as a QgsRasterLayer first (e.g. a /vsizip/ source that is not a file); reports the
          results and the log.
Usage: python3 qgis_run.py <plugins folder> cancel|layer <params.json>   (Debian's python3 with QGIS)
"""
import glob
import json
import os
import sys

os.environ.setdefault('QT_QPA_PLATFORM', 'offscreen')
from qgis.core import QgsApplication, QgsProcessingException, QgsProcessingFeedback, QgsRasterLayer  # noqa: E402

app = QgsApplication([], False)
app.initQgis()
sys.path.append('/usr/share/qgis/python/plugins')
from processing.core.Processing import Processing  # noqa: E402
import processing  # noqa: E402

Processing.initialize()
sys.path.insert(0, sys.argv[1])
import segearth  # noqa: E402

plugin = segearth.classFactory(None)  # kept: the provider lives as long as the plugin
plugin.initProcessing()
mode = sys.argv[2]
with open(sys.argv[3]) as f:
    params = json.load(f)


class Feedback(QgsProcessingFeedback):
    progress_seen = 0.0
    errors = []
    infos = []

    def reportError(self, error, fatalError=False):
        self.errors.append(error)
        super().reportError(error, fatalError)

    def pushInfo(self, info):
        self.infos.append(info)
        super().pushInfo(info)

    def setProgress(self, progress):
        super().setProgress(progress)
        self.progress_seen = max(self.progress_seen, progress)
        if mode == 'cancel' and progress > 0:  # the model has started on the image
            self.cancel()


feedback = Feedback()
report = {'cancelled': False}
if mode == 'layer':
    params['INPUT'] = QgsRasterLayer(params['INPUT'], 'input')
    report['layerValid'] = params['INPUT'].isValid()
try:
    report['results'] = processing.run('segearth:ask', params, feedback=feedback)
except QgsProcessingException as err:
    report.update(cancelled=True, message=str(err))
output_dir = os.path.dirname(params['OUTPUT'])
report.update(
    progressSeen=feedback.progress_seen,
    errors=feedback.errors,
    infos=feedback.infos,
    outputExists=os.path.exists(params['OUTPUT']),
    leftovers=sorted(os.path.basename(p) for p in glob.glob(os.path.join(output_dir, '.segearth-tmp-*'))),
)
print(json.dumps(report), flush=True)
# Leave without QGIS's teardown: exitQgis() with layers still referenced from Python crashes QGIS 3.22.
os._exit(0)
