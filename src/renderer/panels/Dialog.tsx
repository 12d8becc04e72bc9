/**
 * @module renderer/panels/Dialog
 * A minimal modal dialog frame (title, body, close on Escape).
 */
import { useEffect, type ReactNode } from 'react';

export function Dialog(props: { title: string; onClose(): void; children: ReactNode; testId?: string; wide?: boolean }) {
  const { onClose } = props;
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') onClose();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onClose]);
  return (
    <div className="modal-backdrop" role="presentation">
      <div className={props.wide ? 'modal wide' : 'modal'} role="dialog" aria-label={props.title} data-testid={props.testId}>
        <header className="modal-title">
          <span>{props.title}</span>
          <button type="button" className="icon" onClick={onClose} aria-label="Close">
            ✕
          </button>
        </header>
        <div className="modal-body">{props.children}</div>
      </div>
    </div>
  );
}
