/**
 * @module inference/hub/checkpointFiles
 * Which files of a hub repository make the checkpoint folder the converter reads (`conversion/checkpointFolder`):
 * the top-level `*.json` (config, safetensors index, tokenizer files), `*.safetensors` and `*.txt` (merges).
 * Everything else (READMEs, images, training logs, pickle weights next to safetensors) is not downloaded.
 * A repository with only pickle weights (`pytorch_model*.bin`) or without config.json is refused BEFORE
 * downloading gigabytes the converter would then refuse.
 */
import { SegEarthError } from '../../shared/errors.js';
import type { HubFile, RepoSnapshot } from './hubApi.js';

export function selectCheckpointFiles(files: readonly HubFile[], snapshot: RepoSnapshot): HubFile[] {
  const top = files.filter((f) => !f.path.includes('/'));
  const chosen = top.filter((f) => /\.(json|safetensors|txt)$/.test(f.path));
  const where = `${snapshot.repo}@${snapshot.revision}`;
  if (!chosen.some((f) => f.path === 'config.json')) {
    throw new SegEarthError('MODEL_INVALID', `${where} has no config.json: it is not a Hugging Face model checkpoint.`, {
      hint: 'Give the id of a SegEarth-R1 checkpoint repository, e.g. earth-insights/SegEarth-R1-EarthReason (or the shortcut earthreason).',
    });
  }
  if (!chosen.some((f) => f.path.endsWith('.safetensors'))) {
    const pickle = top.find((f) => /\.(bin|pt|pth|ckpt)$/.test(f.path));
    throw new SegEarthError(
      'MODEL_INVALID',
      pickle
        ? `${where} has its weights only as a PyTorch pickle (${pickle.path}), which cannot be read without Python.`
        : `${where} has no *.safetensors weight files.`,
      {
        hint: pickle
          ? `Download it (hf download ${snapshot.repo} --local-dir <folder>) and use the Python exporter: /usr/bin/python3 -m tools.export <folder> -o models/<id> (README "Installing the SegEarth-R1 model"), then \`segearth models import models/<id>\`.`
          : 'This repository is not a SegEarth-R1 checkpoint.',
      },
    );
  }
  return chosen;
}
