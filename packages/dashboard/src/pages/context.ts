/** What every page knows of the signed-in caller. */
export interface Context {
  /** Admin role: the page shows the buttons that change things (the API refuses them to others anyway). */
  admin: boolean;
}

/** Puts a page's content in place (replacing what was there). */
export type Mount = (node: Node) => void;
