/**
 * @module renderer/main
 * Renderer entry: connects to the backend (IPC or server mode) and mounts the workspace.
 */
import { createRoot } from 'react-dom/client';
import 'ol/ol.css';
import './styles.css';
import { connect } from './api';
import { App } from './App';

const root = document.getElementById('root');
if (root) createRoot(root).render(<App connection={connect()} />);
