/**
 * @module renderer/panels/PickerPathBar
 * The top bar of the server-mode file and folder pickers: an "Up" button when the folder has a parent, the
 * folder shown, and the listing's last problem in words.
 */
import type { FileListing } from '../../shared/api/dto';

export function PickerPathBar(props: { listing: FileListing | null; problem: string | null; onOpen(dir?: string): void; dirTestId?: string }) {
  const { listing } = props;
  return (
    <>
      <div className="picker-path">
        {listing?.parent ? (
          <button type="button" className="small" onClick={() => props.onOpen(listing.parent ?? undefined)}>
            ⬑ Up
          </button>
        ) : null}
        <code data-testid={props.dirTestId}>{listing?.dir ?? 'Allowed folders'}</code>
      </div>
      {props.problem ? <p className="error-text">{props.problem}</p> : null}
    </>
  );
}
