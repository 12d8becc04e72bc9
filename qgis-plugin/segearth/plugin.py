"""Registers the SegEarth Processing provider with QGIS (also in qgis_process, which calls initProcessing)."""
from qgis.core import QgsApplication

from .provider import SegEarthProvider


class SegEarthPlugin:
    def __init__(self, iface=None):
        self.iface = iface
        self.provider = None

    def initProcessing(self):
        self.provider = SegEarthProvider()
        QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self):
        self.initProcessing()

    def unload(self):
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
