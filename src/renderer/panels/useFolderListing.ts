/**
 * @module renderer/panels/useFolderListing
 * The folder walk shared by the browser file and folder pickers: lists a folder through `files.list` (the
 * server's allowed roots when none is given) and keeps the listing and the last problem as an analyst-readable
 * message. With `fallbackToRoots`, a folder that cannot be listed falls back to the roots.
 */
import { useCallback, useState } from 'react';
import type { ApiClient } from '../../shared/api/contract';
import type { FileListing } from '../../shared/api/dto';

export function useFolderListing(client: ApiClient, options: { fallbackToRoots?: boolean } = {}) {
  const [listing, setListing] = useState<FileListing | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const { fallbackToRoots = false } = options;
  const load = useCallback(
    (dir?: string) => {
      setProblem(null);
      client.files
        .list(dir === undefined ? {} : { dir })
        .then(setListing)
        .catch((err: Error & { hint?: string }) => {
          setProblem(`${err.message}${err.hint ? ` ${err.hint}` : ''}`);
          if (fallbackToRoots && dir !== undefined) client.files.list({}).then(setListing).catch(() => undefined);
        });
    },
    [client, fallbackToRoots],
  );
  return { listing, problem, load };
}
