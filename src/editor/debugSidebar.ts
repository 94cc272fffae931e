/**
 * Node-RED's debug sidebar shows the first 80 characters of a text and hides the rest behind a click
 * (MAX_STRING_LENGTH in the editor's utils). Our errors and warnings say what happened first and what
 * to do after, so the advice is what it hid. The editor's documented `debugPostProcessMessage` hook
 * (Node-RED 4.1 and later) lets this package show its own nodes' errors and warnings whole, wrapped,
 * as one text: nothing else in the sidebar changes, and nothing is sent anywhere.
 */

/** The node types of this package, whose errors and warnings are shown whole. */
export const OUR_TYPES = ['sendsms', 'nexmobasic', 'vonage-sms-in', 'vonage-sms-receipt'];

/** Node-RED's log levels for errors (20) and warnings (30), as the debug sidebar receives them. */
const ERROR_OR_WARNING = [20, 30];

interface DebugMessage {
  level?: number;
  type?: string;
}

interface Jq {
  find(selector: string): Jq;
  empty(): Jq;
  append(child: unknown): Jq;
  text(value: string): Jq;
  addClass(name: string): Jq;
  css(props: Record<string, string>): Jq;
  length: number;
}

interface EditorRed {
  hooks?: { add(name: string, hook: (event: { message?: DebugMessage; element?: Jq; payload?: unknown }) => void): void };
}

/** Whether a message in the debug sidebar is one of ours to show whole. */
export function showsWhole(message: DebugMessage | undefined, payload: unknown): boolean {
  return !!message && typeof payload === 'string' && ERROR_OR_WARNING.includes(Number(message.level)) && OUR_TYPES.includes(String(message.type));
}

/** Adds the hook once; harmless on an editor that has no hooks (Node-RED 4.0). */
export function showOurMessagesWhole(RED: EditorRed | undefined, $: (html: string) => Jq): boolean {
  if (!RED?.hooks || typeof RED.hooks.add !== 'function') return false;
  const showWhole = ({ message, element, payload }: { message?: DebugMessage; element?: Jq; payload?: unknown }) => {
    if (!element || !showsWhole(message, payload)) return;
    const holder = element.find('.red-ui-debug-msg-payload');
    if (holder.length === 0) return;
    const whole = $('<span class="red-ui-debug-msg-type-string vonage-sms-whole-message"></span>')
      .text(payload as string)
      .css({ 'white-space': 'pre-wrap', 'word-break': 'break-word' });
    holder.empty().append(whole);
  };
  try {
    RED.hooks.add('debugPostProcessMessage.vonageSms', showWhole);
  } catch {
    // Added already, by an earlier load of this script.
  }
  return true;
}
