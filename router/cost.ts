// The cost estimate of an operation, on the client's operation against the supergraph, once its
// variables are known and before execution (so before any subgraph call). IBM/Apollo
// demand-control semantics, from the supergraph's @cost and @listSize:
//
//   operation   mutation 10, query 0, subscription 0
//   field       @cost(weight:) if declared, else 1 for an object/interface/union, 0 for scalars
//               and enums; `__typename` and introspection 0; times the factors of the fields
//               above it and its own
//   own factor  @listSize(slicingArguments:) the largest of those arguments (literal, variable or
//               default), applied to the `sizedFields` children instead when named (a Relay
//               connection's `edges`); @listSize(assumedSize:) n; another list 100; else 1
//   fragments   expanded where spread, each fragment costed once per sizing (cost is linear in
//               the factors above, so a fragment fan-out cannot take exponential time)
//
// Hive Gateway's own `demandControl` is not used: it estimates per subgraph request, after the
// first subgraph call, and does not expand fragments.

import {
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  getNamedType,
  getNullableType,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
  isCompositeType,
  isInterfaceType,
  isListType,
  isObjectType,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  valueFromAST,
  valueFromASTUntyped,
} from 'graphql';
import { limitExceeded } from './errors.ts';
import { guard } from './guard.ts';
import { coerced, type OnExecutePayload } from './input-checks.ts';

const MUTATION_COST = 10;
const UNSIZED_LIST = 100;

interface FieldCost {
  weight?: number;
  slicingArguments?: string[];
  sizedFields?: string[];
  assumedSize?: number;
}

/** A sizing a parent passes to the children it names (its `sizedFields`). */
interface Sizing {
  fields: string[];
  factor: number;
}

const fieldCosts = new WeakMap<GraphQLField<unknown, unknown>, FieldCost>();

function fieldCost(field: GraphQLField<unknown, unknown>): FieldCost {
  let known = fieldCosts.get(field);
  if (known) return known;
  known = {};
  for (const directive of field.astNode?.directives ?? []) {
    const args = Object.fromEntries(
      (directive.arguments ?? []).map((arg) => [arg.name.value, valueFromASTUntyped(arg.value)]),
    );
    if (directive.name.value === 'cost' && typeof args.weight === 'number') known.weight = args.weight;
    if (directive.name.value === 'listSize') {
      if (Array.isArray(args.slicingArguments)) known.slicingArguments = args.slicingArguments;
      if (Array.isArray(args.sizedFields)) known.sizedFields = args.sizedFields;
      if (typeof args.assumedSize === 'number') known.assumedSize = args.assumedSize;
    }
  }
  fieldCosts.set(field, known);
  return known;
}

function slicedSize(
  node: FieldNode,
  field: GraphQLField<unknown, unknown>,
  names: string[],
  variables: Record<string, unknown>,
): number | undefined {
  let largest: number | undefined;
  for (const name of names) {
    const definition = field.args.find((arg) => arg.name === name);
    if (!definition) continue;
    const given = node.arguments?.find((arg) => arg.name.value === name);
    const value = given ? valueFromAST(given.value, definition.type, variables) : definition.defaultValue;
    if (typeof value === 'number' && (largest === undefined || value > largest)) largest = Math.max(0, value);
  }
  return largest;
}

export function estimateCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown>,
): number {
  const root = schema.getRootType(operation.operation);
  if (!root) return 0;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const fragmentCosts = new Map<string, number>();

  function fragmentCost(name: string, sizing: Sizing | undefined): number {
    const key = sizing ? `${name}|${sizing.factor}|${sizing.fields.join(',')}` : name;
    const known = fragmentCosts.get(key);
    if (known !== undefined) return known;
    // 0 while in progress: a fragment cycle (refused by validation) cannot loop here.
    fragmentCosts.set(key, 0);
    const fragment = fragments.get(name);
    const type = fragment && schema.getType(fragment.typeCondition.name.value);
    const cost = fragment && type ? selectionCost(fragment.selectionSet, type, sizing) : 0;
    fragmentCosts.set(key, cost);
    return cost;
  }

  /** The cost of a selection set under a factor of 1 above it. */
  function selectionCost(selectionSet: SelectionSetNode, parent: GraphQLNamedType, sizing: Sizing | undefined): number {
    let total = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parent;
        if (type) total += selectionCost(selection.selectionSet, type, sizing);
        continue;
      }
      if (selection.kind === Kind.FRAGMENT_SPREAD) {
        total += fragmentCost(selection.name.value, sizing);
        continue;
      }
      const name = selection.name.value;
      if (name.startsWith('__') || !(isObjectType(parent) || isInterfaceType(parent))) continue;
      const field = parent.getFields()[name] as GraphQLField<unknown, unknown> | undefined;
      if (!field) continue;
      const declared = fieldCost(field);
      const type = getNamedType(field.type);
      const weight = declared.weight ?? (isCompositeType(type) ? 1 : 0);

      const size = declared.slicingArguments
        ? (slicedSize(selection, field, declared.slicingArguments, variables) ?? declared.assumedSize)
        : declared.assumedSize;
      let factor = size ?? (isListType(getNullableType(field.type)) ? UNSIZED_LIST : 1);
      let childSizing: Sizing | undefined;
      if (size !== undefined && declared.sizedFields) {
        factor = 1;
        childSizing = { fields: declared.sizedFields, factor: size };
      }
      if (sizing?.fields.includes(name)) factor = sizing.factor;

      const below = selection.selectionSet ? selectionCost(selection.selectionSet, type, childSizing) : 0;
      total += factor * (weight + below);
    }
    return total;
  }

  const base = operation.operation === 'mutation' ? MUTATION_COST : 0;
  return base + selectionCost(operation.selectionSet, root, undefined);
}

function refuseExpensive(maxCost: number) {
  return ({ args, setResultAndStopExecution }: OnExecutePayload) => {
    const { operation, variables } = coerced(args);
    // Variables that do not coerce are refused by the input checks; execution would fail on them.
    if (!operation || variables.errors) return;
    const cost = estimateCost(args.schema, args.document, operation, variables.coerced);
    if (cost > maxCost) {
      setResultAndStopExecution({
        errors: [
          limitExceeded(
            'COST_ESTIMATED_TOO_EXPENSIVE',
            `The operation's estimated cost is ${cost}; the cost limit is ${maxCost}.`,
            maxCost,
            cost,
          ),
        ],
      });
    }
  };
}

export function useCostLimit(maxCost: number) {
  const check = refuseExpensive(maxCost);
  return guard({ onExecute: check, onSubscribe: check });
}
