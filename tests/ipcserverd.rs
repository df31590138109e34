//! Tests: ipcserverd.
