"""The SegEarth Processing algorithms: each one runs a ``segearth`` command (see cli.py) and hands QGIS its
outputs. Parameter names follow QGIS conventions (INPUT, QUESTION, MODEL, THRESHOLD, MIN_AREA, STRATEGY, AOI,
OUTPUT, PROBABILITY)."""
import json
import os
import time

from qgis.core import (
    QgsCoordinateTransform,
    QgsFeature,
    QgsFeatureSink,
    QgsField,
    QgsFields,
    QgsGeometry,
    QgsProcessing,
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingOutputFile,
    QgsProcessingOutputFolder,
    QgsProcessingOutputMultipleLayers,
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterEnum,
    QgsProcessingParameterExtent,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterFile,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
    QgsProcessingParameterString,
    QgsProcessingParameterVectorDestination,
    QgsProcessingUtils,
    QgsRasterFileWriter,
    QgsRasterPipe,
    QgsVectorFileWriter,
    QgsVectorLayer,
    QgsWkbTypes,
)
from osgeo import ogr
from qgis.PyQt.QtCore import QCoreApplication, QVariant

from . import cli

ASK_STRATEGIES = ['auto', 'view', 'tiled', 'coarse-to-fine']
BATCH_STRATEGIES = ['tiled', 'coarse-to-fine', 'view']
CLI_VECTOR_EXTENSIONS = ('.gpkg', '.geojson', '.json', '.shp')

# Set by the provider while QGIS registers the algorithms: the model list is then not fetched (QGIS start-up
# stays fast); every dialog, qgis_process run and model designer instance fetches it when created.
registering = False
_models = {'at': -1e9, 'ids': []}


def tr(text):
    return QCoreApplication.translate('SegEarth', text)


def configured_cli():
    try:
        from processing.core.ProcessingConfig import ProcessingConfig
        return ProcessingConfig.getSetting('SEGEARTH_CLI') or ''
    except Exception:  # noqa: BLE001 - outside the Processing framework (tests): no setting
        return ''


def installed_models():
    """`segearth models list --json` (cached for 30 s); [] when the CLI is missing or fails."""
    if registering:
        return _models['ids']
    if time.monotonic() - _models['at'] > 30:
        try:
            deadline = time.monotonic() + 15  # the dialog waits for this: never longer than 15 s
            listing = json.loads(cli.run_cli(cli.find_cli(configured_cli()), cli.models_list_args(),
                                             is_cancelled=lambda: time.monotonic() > deadline, grace_seconds=2))
            _models['ids'] = [m for m in listing.get('models', []) if isinstance(m, dict) and m.get('id')]
        except (cli.CliNotFound, cli.CliError, cli.CliCancelled, ValueError):
            _models['ids'] = []
        _models['at'] = time.monotonic()
    return _models['ids']


class SegEarthAlgorithm(QgsProcessingAlgorithm):
    def createInstance(self):
        return type(self)()

    def model_parameter(self):
        """MODEL: an installed model id (offered in a list from `segearth models list --json`) or a bundle folder;
        empty = the default installed model. A string, so models installed later work in saved models and
        qgis_process too."""
        models = installed_models()
        default = next((m['id'] for m in models if m.get('isDefault') and not m.get('testFixture')), None)
        param = QgsProcessingParameterString('MODEL', tr('Model (empty: the default installed model)'), defaultValue=default, optional=True)
        param.setMetadata({'widget_wrapper': {'value_hints': [m['id'] for m in models]}})
        param.setHelp(tr('An installed SegEarth model id (segearth models list) or a model bundle folder; '
                         'empty: the default installed model.'))
        return param

    def add_model_parameters(self, strategies):
        """MODEL, THRESHOLD, MIN_AREA and STRATEGY (the first strategy is the default)."""
        self.addParameter(self.model_parameter())
        self.addParameter(QgsProcessingParameterNumber(
            'THRESHOLD', tr('Probability threshold'), QgsProcessingParameterNumber.Double, 0.5, minValue=0.001, maxValue=0.999))
        self.addParameter(QgsProcessingParameterNumber(
            'MIN_AREA', tr('Minimum polygon area (m²)'), QgsProcessingParameterNumber.Double, 0.0, minValue=0.0))
        self.addParameter(QgsProcessingParameterEnum(
            'STRATEGY', tr('Level of detail'), options=strategies, defaultValue=strategies[0], usesStaticStrings=True))

    def model_options(self, parameters, context):
        """The values of add_model_parameters as keyword arguments of cli.ask_args / cli.batch_args."""
        return {
            'model': self.parameterAsString(parameters, 'MODEL', context).strip() or None,
            'threshold': self.parameterAsDouble(parameters, 'THRESHOLD', context),
            'min_area': self.parameterAsDouble(parameters, 'MIN_AREA', context),
            'strategy': self.parameterAsEnumString(parameters, 'STRATEGY', context),
        }

    def run_segearth(self, args, feedback, **options):
        """Runs the CLI, with its progress on the progress bar and its messages in the log."""
        try:
            command = cli.find_cli(configured_cli())
        except cli.CliNotFound as err:
            raise QgsProcessingException(str(err))
        feedback.pushCommandInfo('segearth ' + ' '.join(_quote(a) for a in args) + '  [' + command.origin + ']')
        last = {'message': None}

        def progress(fraction, message):
            feedback.setProgress(100.0 * fraction)
            if message and message != last['message']:
                last['message'] = message
                feedback.setProgressText(message)

        def log(kind, text):
            (feedback.pushWarning if kind == 'warning' else feedback.pushInfo)(text)

        try:
            return cli.run_cli(command, args, progress, log, feedback.isCanceled, **options)
        except (cli.CliCancelled, cli.CliError) as err:
            raise QgsProcessingException(str(err))


def _quote(arg):
    return arg if arg and all(c.isalnum() or c in '-_./,:=@' for c in arg) else "'" + arg.replace("'", "'\\''") + "'"


def raster_file(layer, context, feedback):
    """A file GDAL can open for the layer: its own file, else a temporary GeoTIFF of it (web, database and
    other non-file sources)."""
    source = layer.source()
    if layer.providerType() == 'gdal' and os.path.isfile(source):
        return source
    path = QgsProcessingUtils.generateTempFilename('segearth_input.tif')
    feedback.pushInfo(tr('The layer is not a file: writing it to {} for SegEarth').format(path))
    writer = QgsRasterFileWriter(path)
    writer.setOutputFormat('GTiff')
    pipe = QgsRasterPipe()
    if not pipe.set(layer.dataProvider().clone()):
        raise QgsProcessingException(tr('Cannot read the raster layer {}.').format(layer.name()))
    error = writer.writeRaster(pipe, layer.width(), layer.height(), layer.extent(), layer.crs(), context.transformContext())
    if error != QgsRasterFileWriter.NoError:
        raise QgsProcessingException(tr('Could not write the raster layer {} to a GeoTIFF (error {}).').format(layer.name(), error))
    return path


def cli_output(output):
    """Where the CLI writes: the output itself for its own formats, else a temporary GeoPackage converted
    afterwards (any format OGR writes)."""
    if os.path.splitext(output)[1].lower() in CLI_VECTOR_EXTENSIONS:
        return output
    return QgsProcessingUtils.generateTempFilename('segearth_output.gpkg')


def convert_vector(source, output, context):
    if source == output:
        return
    layer = QgsVectorLayer(source, 'segearth', 'ogr')
    options = QgsVectorFileWriter.SaveVectorOptions()
    options.driverName = QgsVectorFileWriter.driverForExtension(os.path.splitext(output)[1])
    result = QgsVectorFileWriter.writeAsVectorFormatV3(layer, output, context.transformContext(), options)
    if result[0] != QgsVectorFileWriter.NoError:
        raise QgsProcessingException(tr('Could not write {}: {}').format(output, result[1]))


class AskAlgorithm(SegEarthAlgorithm):
    def name(self):
        return 'ask'

    def displayName(self):
        return tr('Ask a question about a raster')

    def shortHelpString(self):
        return tr('Answers an implicit question ("Where could a helicopter land?") about a raster with SegEarth-R1 '
                  'and returns the answer as polygons in the raster\'s CRS, with their area, perimeter, mean '
                  'probability and provenance (question, model, source, threshold). The area of interest may be an '
                  'extent and/or a polygon layer: the model runs on its bounding box, the answer is clipped to the '
                  'polygons. Runs the SegEarth Desktop engine (no Python packages to install).')

    def initAlgorithm(self, config=None):
        self.addParameter(QgsProcessingParameterRasterLayer('INPUT', tr('Raster')))
        self.addParameter(QgsProcessingParameterString('QUESTION', tr('Question')))
        self.add_model_parameters(ASK_STRATEGIES)
        self.addParameter(QgsProcessingParameterFeatureSource(
            'AOI', tr('Area of interest (polygons)'), [QgsProcessing.TypeVectorPolygon], optional=True))
        self.addParameter(QgsProcessingParameterExtent('EXTENT', tr('Area of interest (extent)'), optional=True))
        self.addParameter(QgsProcessingParameterVectorDestination(
            'OUTPUT', tr('Answer polygons'), QgsProcessing.TypeVectorPolygon))
        self.addParameter(QgsProcessingParameterRasterDestination(
            'PROBABILITY', tr('Probability raster'), optional=True, createByDefault=False))
        self.addOutput(QgsProcessingOutputNumber('FEATURE_COUNT', tr('Number of polygons')))
        self.addOutput(QgsProcessingOutputNumber('MAX_PROBABILITY', tr('Highest probability')))

    def aoi(self, parameters, context, raster, feedback):
        """None, an extent in the raster's CRS, or a temporary GeoPackage of the AOI polygons in that CRS
        (clipped to the extent when both are given)."""
        has_extent = parameters.get('EXTENT') not in (None, '')
        rect = self.parameterAsExtent(parameters, 'EXTENT', context, raster.crs()) if has_extent else None
        source = self.parameterAsSource(parameters, 'AOI', context)
        if source is None:
            return None if rect is None or rect.isEmpty() else (rect.xMinimum(), rect.yMinimum(), rect.xMaximum(), rect.yMaximum())
        path = QgsProcessingUtils.generateTempFilename('segearth_aoi.gpkg')
        options = QgsVectorFileWriter.SaveVectorOptions()
        options.driverName = 'GPKG'
        writer = QgsVectorFileWriter.create(path, QgsFields(), QgsWkbTypes.MultiPolygon, raster.crs(),
                                            context.transformContext(), options)
        transform = QgsCoordinateTransform(source.sourceCrs(), raster.crs(), context.transformContext())
        count = 0
        for feature in source.getFeatures():
            geometry = QgsGeometry(feature.geometry())
            if geometry.isEmpty():
                continue
            geometry.transform(transform)
            if rect is not None:
                geometry = geometry.intersection(QgsGeometry.fromRect(rect))
            if geometry.isEmpty():
                continue
            geometry.convertToMultiType()
            out = QgsFeature()
            out.setGeometry(geometry)
            writer.addFeature(out, QgsFeatureSink.FastInsert)
            count += 1
        del writer
        if count == 0:
            raise QgsProcessingException(tr('The area of interest has no polygon (inside the extent).'))
        feedback.pushInfo(tr('Area of interest: {} polygon(s)').format(count))
        return path

    def processAlgorithm(self, parameters, context, feedback):
        layer = self.parameterAsRasterLayer(parameters, 'INPUT', context)
        if layer is None:
            raise QgsProcessingException(self.invalidRasterError(parameters, 'INPUT'))
        output = self.parameterAsOutputLayer(parameters, 'OUTPUT', context)
        probability = self.parameterAsOutputLayer(parameters, 'PROBABILITY', context) or None
        target = cli_output(output)
        args = cli.ask_args(
            raster_file(layer, context, feedback),
            self.parameterAsString(parameters, 'QUESTION', context),
            target,
            aoi=self.aoi(parameters, context, layer, feedback),
            probability=probability,
            **self.model_options(parameters, context),
        )
        summary = json.loads(self.run_segearth(args, feedback))
        convert_vector(target, output, context)
        feedback.pushInfo(tr('{} polygon(s), highest probability {:.3f}').format(summary['featureCount'], summary['maxProbability']))
        return {'OUTPUT': output, 'PROBABILITY': probability, 'FEATURE_COUNT': summary['featureCount'],
                'MAX_PROBABILITY': summary['maxProbability']}


class BatchAlgorithm(SegEarthAlgorithm):
    def name(self):
        return 'batch'

    def displayName(self):
        return tr('Batch a folder')

    def shortHelpString(self):
        return tr('Asks one or more questions (one per line) about every raster in a folder, with the model loaded '
                  'once. Writes per-scene results, merged.gpkg (one layer per question, a source field per '
                  'polygon) and summary.csv into the output folder. A cancelled or crashed batch continues where '
                  'it stopped with "Resume".')

    def initAlgorithm(self, config=None):
        self.addParameter(QgsProcessingParameterFile('INPUT', tr('Folder of scenes'), QgsProcessingParameterFile.Folder))
        self.addParameter(QgsProcessingParameterString('QUESTION', tr('Questions (one per line)'), multiLine=True))
        self.add_model_parameters(BATCH_STRATEGIES)
        self.addParameter(QgsProcessingParameterBoolean('RESUME', tr('Resume the batch already in the output folder'), False))
        self.addParameter(QgsProcessingParameterFolderDestination('OUTPUT', tr('Output folder')))
        self.addOutput(QgsProcessingOutputMultipleLayers('MERGED', tr('Merged answers (one layer per question)')))
        self.addOutput(QgsProcessingOutputFile('SUMMARY', tr('Summary table (CSV)')))

    def processAlgorithm(self, parameters, context, feedback):
        questions = cli.split_questions(self.parameterAsString(parameters, 'QUESTION', context))
        if not questions:
            raise QgsProcessingException(tr('No question given: write one question per line.'))
        output = self.parameterAsString(parameters, 'OUTPUT', context)
        args = cli.batch_args(
            self.parameterAsFile(parameters, 'INPUT', context), questions, output,
            resume=self.parameterAsBool(parameters, 'RESUME', context),
            **self.model_options(parameters, context),
        )
        summary = json.loads(self.run_segearth(args, feedback, cancelled_message=tr(
            'Cancelled: the batch stopped; the scenes already done are kept. Run it again with "Resume" to continue.')))
        merged = os.path.join(output, 'merged.gpkg')
        layers = []
        if os.path.isfile(merged):
            dataset = ogr.Open(merged)
            layers = ['{}|layername={}'.format(merged, dataset.GetLayer(i).GetName()) for i in range(dataset.GetLayerCount())]
            dataset = None
        summary_csv = os.path.join(output, 'summary.csv')
        if context.project() is not None:  # in the QGIS window: the merged layers and the summary table open
            for uri in layers:
                context.addLayerToLoadOnCompletion(uri, QgsProcessingContext.LayerDetails(uri.split('=')[-1], context.project(), 'MERGED'))
            if os.path.isfile(summary_csv):
                context.addLayerToLoadOnCompletion(summary_csv, QgsProcessingContext.LayerDetails('summary', context.project(), 'SUMMARY'))
        totals = summary.get('totals', {})
        feedback.pushInfo(tr('{} done, {} failed, {} polygon(s)').format(totals.get('done'), totals.get('failed'), totals.get('polygons')))
        return {'OUTPUT': output, 'MERGED': layers, 'SUMMARY': summary_csv}


class VectorizeAlgorithm(SegEarthAlgorithm):
    def name(self):
        return 'vectorize'

    def displayName(self):
        return tr('Vectorize a mask or probability raster')

    def shortHelpString(self):
        return tr('Turns any model\'s mask (0/1, 0/255, class ids) or probability raster into polygons with ground '
                  'area and perimeter (geodesic for geographic CRSs), topology-preserving simplification and a '
                  'minimum area. No model needed. Threshold: probabilities p >= threshold (default 0.5); integer '
                  'masks value >= threshold (default: any value > 0).')

    def initAlgorithm(self, config=None):
        self.addParameter(QgsProcessingParameterRasterLayer('INPUT', tr('Mask or probability raster')))
        self.addParameter(QgsProcessingParameterNumber('BAND', tr('Band'), QgsProcessingParameterNumber.Integer, 1, minValue=1))
        self.addParameter(QgsProcessingParameterNumber(
            'THRESHOLD', tr('Threshold'), QgsProcessingParameterNumber.Double, optional=True))
        self.addParameter(QgsProcessingParameterNumber(
            'MIN_AREA', tr('Minimum polygon area (m²)'), QgsProcessingParameterNumber.Double, 0.0, minValue=0.0))
        self.addParameter(QgsProcessingParameterString(
            'SIMPLIFY', tr('Simplification tolerance (e.g. 1px, 2m)'), optional=True))
        self.addParameter(QgsProcessingParameterVectorDestination('OUTPUT', tr('Polygons'), QgsProcessing.TypeVectorPolygon))

    def processAlgorithm(self, parameters, context, feedback):
        layer = self.parameterAsRasterLayer(parameters, 'INPUT', context)
        if layer is None:
            raise QgsProcessingException(self.invalidRasterError(parameters, 'INPUT'))
        output = self.parameterAsOutputLayer(parameters, 'OUTPUT', context)
        target = cli_output(output)
        threshold = parameters.get('THRESHOLD')
        args = cli.vectorize_args(
            raster_file(layer, context, feedback), target,
            band=self.parameterAsInt(parameters, 'BAND', context),
            threshold=None if threshold in (None, '') else self.parameterAsDouble(parameters, 'THRESHOLD', context),
            min_area=self.parameterAsDouble(parameters, 'MIN_AREA', context),
            simplify=self.parameterAsString(parameters, 'SIMPLIFY', context).strip(),
        )
        summary = json.loads(self.run_segearth(args, feedback))
        convert_vector(target, output, context)
        return {'OUTPUT': output, 'FEATURE_COUNT': summary.get('featureCount')}


MODEL_FIELDS = [('id', QVariant.String), ('name', QVariant.String), ('variant', QVariant.String),
                ('precision', QVariant.String), ('size_mb', QVariant.Double), ('state', QVariant.String),
                ('is_default', QVariant.Bool), ('test_fixture', QVariant.Bool), ('location', QVariant.String),
                ('folder', QVariant.String)]


class ModelsAlgorithm(SegEarthAlgorithm):
    def name(self):
        return 'models'

    def displayName(self):
        return tr('List installed models')

    def shortHelpString(self):
        return tr('The SegEarth model bundles installed for the SegEarth Desktop app and CLI (segearth models list), '
                  'as a table: id, variant, precision, size, verified state, default, where each is installed.')

    def initAlgorithm(self, config=None):
        self.addParameter(QgsProcessingParameterFeatureSink('OUTPUT', tr('Models'), QgsProcessing.TypeVector))
        self.addOutput(QgsProcessingOutputNumber('COUNT', tr('Number of models')))

    def processAlgorithm(self, parameters, context, feedback):
        listing = json.loads(self.run_segearth(cli.models_list_args(), feedback))
        fields = QgsFields()
        for name, kind in MODEL_FIELDS:
            fields.append(QgsField(name, kind))
        sink, dest = self.parameterAsSink(parameters, 'OUTPUT', context, fields, QgsWkbTypes.NoGeometry)
        models = listing.get('models', [])
        for m in models:
            feature = QgsFeature(fields)
            feature.setAttributes([
                m.get('id'), m.get('name'), m.get('variant'), m.get('precision'),
                round(float(m.get('sizeBytes') or 0) / 1e6, 1), (m.get('verify') or {}).get('state'),
                bool(m.get('isDefault')), bool(m.get('testFixture')), m.get('location'), m.get('dir'),
            ])
            sink.addFeature(feature, QgsFeatureSink.FastInsert)
            feedback.pushInfo('{} ({}, {}){}'.format(m.get('id'), m.get('variant'), m.get('precision'), ' *default' if m.get('isDefault') else ''))
        for broken in listing.get('broken', []):
            feedback.pushWarning(tr('{} is not a usable bundle: {}').format(broken.get('dir'), broken.get('reason')))
        if not models:
            feedback.pushWarning(tr('No model is installed: see "Installing the SegEarth-R1 model" in the SegEarth README.'))
        return {'OUTPUT': dest, 'COUNT': len(models)}


PRECISIONS = ['fp32', 'cpu', 'fp16']


class GetModelAlgorithm(SegEarthAlgorithm):
    def name(self):
        return 'models_get'

    def displayName(self):
        return tr('Get a released model from the hub')

    def shortHelpString(self):
        return tr('Downloads a released SegEarth-R1 checkpoint (earthreason, rrsis-d, or a hub repository id), converts '
                  'it and installs it for SegEarth Desktop, the CLI and this plugin (segearth models get). Resumable: '
                  'a cancelled download continues next time. Precision: empty = chosen for this machine; fp32 (CPU '
                  'and GPU), cpu (int8, fastest on CPUs), fp16 (GPUs). HF_ENDPOINT, HF_TOKEN and HTTPS_PROXY are used '
                  'as by huggingface-cli.')

    def initAlgorithm(self, config=None):
        self.addParameter(QgsProcessingParameterString('INPUT', tr('Model (earthreason, rrsis-d or organisation/name)'), 'earthreason'))
        self.addParameter(QgsProcessingParameterEnum(
            'PRECISION', tr('Precision (empty: chosen for this machine)'), options=PRECISIONS, optional=True, usesStaticStrings=True))
        self.addParameter(QgsProcessingParameterString('REVISION', tr('Revision'), 'main'))
        self.addParameter(QgsProcessingParameterBoolean('REPLACE', tr('Replace an installed bundle with the same id'), False))
        self.addOutput(QgsProcessingOutputString('MODEL', tr('Installed model id')))
        self.addOutput(QgsProcessingOutputFolder('FOLDER', tr('Bundle folder')))

    def processAlgorithm(self, parameters, context, feedback):
        args = cli.models_get_args(
            self.parameterAsString(parameters, 'INPUT', context).strip(),
            precision=self.parameterAsEnumString(parameters, 'PRECISION', context) or None,
            revision=self.parameterAsString(parameters, 'REVISION', context).strip(),
            replace=self.parameterAsBool(parameters, 'REPLACE', context),
        )
        model = json.loads(self.run_segearth(args, feedback, cancelled_message=tr(
            'Cancelled: nothing was installed; the download continues where it stopped next time.')))
        _models['at'] = -1e9  # the model lists offer it from now on
        return {'MODEL': model.get('id'), 'FOLDER': model.get('dir')}


class ConvertModelAlgorithm(SegEarthAlgorithm):
    def name(self):
        return 'models_convert'

    def displayName(self):
        return tr('Convert a downloaded checkpoint')

    def shortHelpString(self):
        return tr('Converts a SegEarth-R1 checkpoint folder you downloaded (config.json, *.safetensors, tokenizer files) '
                  'into a model bundle, without Python (segearth models convert), and installs it, or writes it to '
                  'the output folder when one is given.')

    def initAlgorithm(self, config=None):
        self.addParameter(QgsProcessingParameterFile('INPUT', tr('Checkpoint folder'), QgsProcessingParameterFile.Folder))
        self.addParameter(QgsProcessingParameterEnum(
            'PRECISION', tr('Precision'), options=PRECISIONS, defaultValue='fp32', usesStaticStrings=True))
        self.addParameter(QgsProcessingParameterBoolean('REPLACE', tr('Replace an existing bundle with the same id'), False))
        self.addParameter(QgsProcessingParameterFolderDestination(
            'OUTPUT', tr('Bundle folder (empty: install it)'), optional=True, createByDefault=False))
        self.addOutput(QgsProcessingOutputString('MODEL', tr('Model id')))

    def processAlgorithm(self, parameters, context, feedback):
        out = self.parameterAsString(parameters, 'OUTPUT', context) if parameters.get('OUTPUT') else ''
        args = cli.models_convert_args(
            self.parameterAsFile(parameters, 'INPUT', context),
            precision=self.parameterAsEnumString(parameters, 'PRECISION', context) or 'fp32',
            out=out or None,
            replace=self.parameterAsBool(parameters, 'REPLACE', context),
        )
        facts = json.loads(self.run_segearth(args, feedback, cancelled_message=tr('Cancelled: no bundle was written or installed.')))
        _models['at'] = -1e9
        return {'MODEL': facts.get('id'), 'OUTPUT': facts.get('dir')}


ALGORITHMS = [AskAlgorithm, BatchAlgorithm, VectorizeAlgorithm, ModelsAlgorithm, GetModelAlgorithm, ConvertModelAlgorithm]
