"""The "SegEarth" Processing provider: its algorithms and its one setting, the path of the SegEarth CLI (empty:
found automatically, see cli.find_cli)."""
import os

from qgis.core import QgsProcessingProvider
from qgis.PyQt.QtGui import QIcon

from . import algorithms

SETTING = 'SEGEARTH_CLI'


class SegEarthProvider(QgsProcessingProvider):
    def id(self):
        return 'segearth'

    def name(self):
        return 'SegEarth'

    def longName(self):
        return 'SegEarth: ask questions about rasters (SegEarth-R1, runs SegEarth Desktop)'

    def icon(self):
        return QIcon(os.path.join(os.path.dirname(__file__), 'icon.svg'))

    def load(self):
        try:
            from processing.core.ProcessingConfig import ProcessingConfig, Setting
            ProcessingConfig.settingIcons[self.name()] = self.icon()
            ProcessingConfig.addSetting(Setting(
                self.name(), SETTING,
                'SegEarth CLI (the segearth command or the SegEarth Desktop app; empty = find it)', '',
                valuetype=Setting.FILE))
            ProcessingConfig.readSettings()
        except ImportError:  # Processing's Python side absent: the CLI is still found automatically
            pass
        self.refreshAlgorithms()
        return True

    def unload(self):
        try:
            from processing.core.ProcessingConfig import ProcessingConfig
            ProcessingConfig.removeSetting(SETTING)
        except ImportError:
            pass

    def loadAlgorithms(self):
        algorithms.registering = True
        try:
            for alg in algorithms.ALGORITHMS:
                self.addAlgorithm(alg())
        finally:
            algorithms.registering = False

    # The CLI writes these itself; the algorithms convert to any other OGR format QGIS offers.
    def supportsNonFileBasedOutput(self):
        return False

    def defaultVectorFileExtension(self, hasGeometry=True):
        return 'gpkg'

    def supportedOutputRasterLayerExtensions(self):
        return ['tif']

    def defaultRasterFileExtension(self):
        return 'tif'
