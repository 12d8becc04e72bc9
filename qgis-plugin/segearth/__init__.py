"""SegEarth for QGIS: Processing algorithms that run the SegEarth Desktop engine (segearth CLI)."""


def classFactory(iface):
    from .plugin import SegEarthPlugin
    return SegEarthPlugin(iface)
