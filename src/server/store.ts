// The store the API serves: both halves of the port (what `loadStore` returns).
import type { Store } from "../store/port.js";
import type { RunStore } from "../store/run-port.js";

export type ApiStore = Store & RunStore;
