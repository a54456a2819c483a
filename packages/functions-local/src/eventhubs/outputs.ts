/**
 * The `eventHub` output binding, carried out after a successful invocation: values set with
 * `context.extraOutputs.set(binding, ...)`, or returned when the return binding is an Event Hub,
 * are published to the binding's hub. An array is one event per item. As in the host, a string
 * is sent as its own UTF-8 text, a Buffer as raw bytes, anything else as JSON; output events
 * carry no partition key (the binding has none), so they are spread round robin.
 */
import type { InvocationContext } from '@azure/functions';
import type { RegisteredFunction } from '../core/functions-core';
import type { AfterInvocation } from '../host/invocation';
import { RETURN_BINDING, effectiveOptions } from '../host/invocation';
import { resolveSettingRefs } from '../host/settings';
import type { Settings } from '../host/settings';
import type { EventHubNamespace, EventToPublish } from './hub';

function outputEvent(value: unknown): EventToPublish {
  if (typeof value === 'string') return { body: Buffer.from(value, 'utf8') };
  return { body: value };
}

/** Publishes a finished invocation's `eventHub` outputs; returns how many events went out. */
export function publishEventHubOutputs(
  fn: RegisteredFunction,
  context: InvocationContext,
  returnValue: unknown,
  namespace: EventHubNamespace,
  settings: Settings = {},
): number {
  const options = effectiveOptions(fn);
  const bindings = [...options.extraOutputs, ...(options.return ? [options.return] : [])];
  let published = 0;
  for (const binding of bindings) {
    if (binding.type.toLowerCase() !== 'eventhub') continue;
    const name = String(binding.name);
    const value = name === RETURN_BINDING ? returnValue : context.extraOutputs.get(name);
    if (value === undefined || value === null) continue;
    const hubRef = typeof binding.eventHubName === 'string' ? binding.eventHubName : '';
    const hubName = resolveSettingRefs(hubRef, settings, `function "${fn.name}" output "${name}" (eventHubName)`);
    const events = (Array.isArray(value) ? value : [value]).map(outputEvent);
    if (events.length === 0) continue;
    namespace.hub(hubName).publish(events);
    published += events.length;
  }
  return published;
}

/** The same, shaped as the hook the triggers call after each successful invocation. */
export function eventHubOutputHook(namespace: EventHubNamespace, settings: Settings = {}): AfterInvocation {
  return async (fn, context, result) => {
    publishEventHubOutputs(fn, context, result, namespace, settings);
  };
}
