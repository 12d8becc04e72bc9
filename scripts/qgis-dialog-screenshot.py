"""Renders the SegEarth "Ask a question about a raster" dialog of QGIS headless (offscreen Qt) into a PNG for the
README: a project with a raster and an AOI layer, the plugin loaded from qgis-plugin/, the Processing dialog
opened and grabbed.

    SEGEARTH_CLI=bin/segearth.js QT_QPA_PLATFORM=offscreen /usr/bin/python3 scripts/qgis-dialog-screenshot.py \\
        <raster> <aoi polygons> docs/screenshots/qgis-ask-dialog.png
"""
import os
import sys

os.environ.setdefault('QT_QPA_PLATFORM', 'offscreen')
from qgis.core import QgsApplication, QgsProject, QgsRasterLayer, QgsVectorLayer  # noqa: E402

raster_path, aoi_path, out_path = sys.argv[1:4]
app = QgsApplication([], True)
app.initQgis()
sys.path.append('/usr/share/qgis/python/plugins')
import unittest.mock  # noqa: E402

sys.modules.setdefault('mock', unittest.mock)  # qgis.testing.mocked imports the old "mock" package
from qgis.testing.mocked import get_iface  # noqa: E402
import qgis.utils  # noqa: E402

from qgis.gui import QgsBrowserGuiModel  # noqa: E402

iface = get_iface()
browser = QgsBrowserGuiModel()
iface.browserModel.return_value = browser
qgis.utils.iface = iface
from processing.core.Processing import Processing  # noqa: E402

Processing.initialize()
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'qgis-plugin'))
import segearth  # noqa: E402

plugin = segearth.classFactory(None)
plugin.initProcessing()
raster = QgsRasterLayer(raster_path, 'landsat scene')
aoi = QgsVectorLayer(aoi_path, 'study area', 'ogr')
QgsProject.instance().addMapLayers([raster, aoi])
iface.activeLayer.return_value = raster

from processing.gui.AlgorithmDialog import AlgorithmDialog  # noqa: E402

alg = QgsApplication.processingRegistry().createAlgorithmById('segearth:ask')
dialog = AlgorithmDialog(alg)
dialog.mainWidget().setParameters({
    'INPUT': raster, 'QUESTION': 'Where could a helicopter land?', 'AOI': aoi, 'MIN_AREA': 100,
})
dialog.setMinimumSize(900, 880)
dialog.resize(900, 880)
dialog.show()
for _ in range(20):
    app.processEvents()
dialog.grab().save(out_path)
print(out_path)
