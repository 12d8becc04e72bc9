/**
 * @module renderer/panels/FilePicker
 * Browser file picker for server mode: the server lists folders inside its allowed roots; the analyst walks
 * them and opens a raster, or types a path.
 */
import { useEffect, useState } from 'react';
import type { ApiClient } from '../../shared/api/contract';
import { formatBytes } from '../format';
import { Dialog } from './Dialog';
import { PickerPathBar } from './PickerPathBar';
import { useFolderListing } from './useFolderListing';

export function FilePicker(props: { client: ApiClient; onOpen(path: string): void; onClose(): void; recent: string[] }) {
  const { client } = props;
  const { listing, problem, load } = useFolderListing(client);
  const [typed, setTyped] = useState('');
  useEffect(() => load(), [load]);

  return (
    <Dialog title="Open raster" onClose={props.onClose} testId="file-picker" wide>
      <PickerPathBar listing={listing} problem={problem} onOpen={load} />
      <ul className="picker-list">
        {listing?.entries.map((entry) => (
          <li key={entry.path}>
            {entry.kind === 'directory' ? (
              <button type="button" className="entry dir" onClick={() => load(entry.path)}>
                📁 {entry.name}
              </button>
            ) : (
              <button
                type="button"
                className={entry.kind === 'raster' ? 'entry raster' : 'entry other'}
                onClick={() => props.onOpen(entry.path)}
                data-testid="picker-file"
                title={entry.kind === 'raster' ? 'Open this raster' : 'Not a known raster extension — GDAL may still open it'}
              >
                {entry.kind === 'raster' ? '🛰' : '📄'} {entry.name} <span className="size">{formatBytes(entry.sizeBytes)}</span>
              </button>
            )}
          </li>
        ))}
        {listing && listing.entries.length === 0 ? <li className="hint">This folder is empty.</li> : null}
      </ul>
      {props.recent.length > 0 ? (
        <>
          <h4>Recent</h4>
          <ul className="picker-list">
            {props.recent.map((p) => (
              <li key={p}>
                <button type="button" className="entry raster" onClick={() => props.onOpen(p)}>
                  🕘 {p}
                </button>
              </li>
            ))}
          </ul>
        </>
      ) : null}
      <form
        className="picker-typed"
        onSubmit={(e) => {
          e.preventDefault();
          if (typed.trim()) props.onOpen(typed.trim());
        }}
      >
        <input value={typed} onChange={(e) => setTyped(e.target.value)} placeholder="…or type a path" aria-label="Raster path" data-testid="picker-path" />
        <button type="submit">Open</button>
      </form>
    </Dialog>
  );
}
