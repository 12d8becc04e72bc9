/**
 * @module renderer/panels/FolderPicker
 * Browser folder picker for server mode (the batch panel's input and output folders): walks the folders the
 * server may access and answers the one shown. Rasters are listed (greyed) so the analyst sees which folder
 * holds the scenes.
 */
import { useEffect } from 'react';
import type { ApiClient } from '../../shared/api/contract';
import { Dialog } from './Dialog';
import { PickerPathBar } from './PickerPathBar';
import { useFolderListing } from './useFolderListing';

export function FolderPicker(props: { client: ApiClient; title: string; start?: string; onChoose(path: string): void; onClose(): void }) {
  const { client } = props;
  const { listing, problem, load } = useFolderListing(client, { fallbackToRoots: true });
  const { start } = props;
  useEffect(() => load(start || undefined), [load, start]);

  const rasters = listing?.entries.filter((e) => e.kind === 'raster').length ?? 0;
  return (
    <Dialog title={props.title} onClose={props.onClose} testId="folder-picker" wide>
      <PickerPathBar listing={listing} problem={problem} onOpen={load} dirTestId="folder-picker-dir" />
      <ul className="picker-list">
        {listing?.entries.map((entry) =>
          entry.kind === 'directory' ? (
            <li key={entry.path}>
              <button type="button" className="entry dir" onClick={() => load(entry.path)} data-testid="folder-entry">
                📁 {entry.name}
              </button>
            </li>
          ) : entry.kind === 'raster' ? (
            <li key={entry.path} className="entry other">
              🛰 {entry.name}
            </li>
          ) : null,
        )}
        {listing && listing.entries.length === 0 ? <li className="hint">This folder is empty.</li> : null}
      </ul>
      <div className="row end">
        <span className="hint grow">{listing?.dir ? `${rasters} raster${rasters === 1 ? '' : 's'} directly in this folder` : ''}</span>
        <button type="button" onClick={props.onClose}>
          Cancel
        </button>
        <button
          type="button"
          className="primary"
          disabled={!listing?.dir}
          onClick={() => listing?.dir && props.onChoose(listing.dir)}
          data-testid="folder-choose"
        >
          Use this folder
        </button>
      </div>
    </Dialog>
  );
}
