"""PyQGIS check of Cancel: runs segearth:ask through processing.run with a feedback that presses Cancel once the
model has started (first progress above 0 %), and prints what happened as JSON (exception message, whether the output or temporary
files exist). Usage: python3 qgis_cancel.py <plugins folder> <params.json>   (Debian's python3 with QGIS)
"""
import glob
import json
import os
import sys

os.environ.setdefault('QT_QPA_PLATFORM', 'offscreen')
from qgis.core import QgsApplication, QgsProcessingException, QgsProcessingFeedback  # noqa: E402

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
with open(sys.argv[2]) as f:
    params = json.load(f)


class CancelWhenRunning(QgsProcessingFeedback):
    progress_seen = 0.0
    errors = []

    def reportError(self, error, fatalError=False):
        self.errors.append(error)
        super().reportError(error, fatalError)

    def setProgress(self, progress):
        super().setProgress(progress)
        self.progress_seen = max(self.progress_seen, progress)
        if progress > 0:  # the model has started on the image
            self.cancel()


feedback = CancelWhenRunning()
report = {'cancelled': False}
try:
    processing.run('segearth:ask', params, feedback=feedback)
except QgsProcessingException as err:
    report.update(cancelled=True, message=str(err))
output_dir = os.path.dirname(params['OUTPUT'])
report.update(
    progressSeen=feedback.progress_seen,
    errors=feedback.errors,
    outputExists=os.path.exists(params['OUTPUT']),
    leftovers=sorted(os.path.basename(p) for p in glob.glob(os.path.join(output_dir, '.segearth-tmp-*'))),
)
print(json.dumps(report))
app.exitQgis()
