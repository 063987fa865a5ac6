// Malformed input gets a 4xx naming what is wrong, never a 500 or a confused subgraph:
//
//   parameters that are not JSON (GET ?variables={...)      400 BAD_REQUEST
//   a lone UTF-16 surrogate ("\ud800" escaped in the JSON)   400 BAD_USER_INPUT, before any
//     in the query, operation name, variables or extensions  subgraph call (a subgraph cannot
//                                                            encode it and answers garbage)
//   an operation type the schema lacks (`subscription {…}`)  GRAPHQL_VALIDATION_FAILED
//   variables that do not coerce to their declared types     400 BAD_USER_INPUT

import {
  type ASTVisitor,
  type DocumentNode,
  getOperationAST,
  getVariableValues,
  GraphQLError,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type ValidationContext,
} from 'graphql';
import { createGraphQLError } from 'graphql-yoga';
import { isRefused, refusal, refuse } from './errors.ts';

// With the u flag a surrogate pair is one code point outside this class: only lone halves match.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** Walks strings and object keys without recursion: variables can nest as deep as the body
 * limit allows. */
export function hasLoneSurrogate(value: unknown): boolean {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const item = pending.pop();
    if (typeof item === 'string') {
      if (LONE_SURROGATE.test(item)) return true;
    } else if (item !== null && typeof item === 'object') {
      for (const [key, child] of Object.entries(item)) {
        if (LONE_SURROGATE.test(key)) return true;
        pending.push(child);
      }
    }
  }
  return false;
}

/** graphql-js 16 has no rule for it; generic-auth then fails with a TypeError (a 500). */
function KnownOperationTypes(context: ValidationContext): ASTVisitor {
  return {
    OperationDefinition(node: OperationDefinitionNode) {
      if (!context.getSchema().getRootType(node.operation)) {
        context.reportError(new GraphQLError(`This API has no ${node.operation} operations.`, { nodes: [node] }));
      }
    },
  };
}

function badUserInput(error: GraphQLError): GraphQLError {
  return createGraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    extensions: { code: 'BAD_USER_INPUT', http: { status: 400, spec: false } },
  });
}

export interface OnExecutePayload {
  args: {
    schema: GraphQLSchema;
    document: DocumentNode;
    operationName?: string | null;
    variableValues?: Record<string, unknown> | null;
  };
  setResultAndStopExecution: (result: object) => void;
}

export interface Coerced {
  operation: OperationDefinitionNode | null;
  variables: ReturnType<typeof getVariableValues>;
}

const coercedByExecution = new WeakMap<object, Coerced>();

/** The operation and its coerced variables, worked out once per execution: the cost
 * estimate (cost.ts) needs them as well as this check. */
export function coerced(args: OnExecutePayload['args']): Coerced {
  let known = coercedByExecution.get(args);
  if (known === undefined) {
    const operation = getOperationAST(args.document, args.operationName);
    const variables = getVariableValues(args.schema, operation?.variableDefinitions ?? [], args.variableValues ?? {});
    known = { operation, variables };
    coercedByExecution.set(args, known);
  }
  return known;
}

function refuseUncoercibleVariables({ args, setResultAndStopExecution }: OnExecutePayload) {
  const { errors } = coerced(args).variables;
  if (errors) setResultAndStopExecution({ errors: errors.map(badUserInput) });
}

export function useInputChecks() {
  return {
    onRequestParse({ requestParser, setRequestParser }: any) {
      if (requestParser == null) return;
      setRequestParser(async (request: Request) => {
        try {
          return await requestParser(request);
        } catch (error) {
          // Yoga's GET and form parsers let JSON.parse's SyntaxError through (a 500).
          if (!(error instanceof SyntaxError)) throw error;
          throw refusal(
            'BAD_REQUEST',
            'The variables and extensions parameters must be JSON.',
          );
        }
      });
    },
    onParams(payload: any) {
      const { params, context } = payload;
      if (isRefused(context)) return;
      const { query, operationName, variables, extensions } = params;
      if (hasLoneSurrogate([query, operationName, variables, extensions])) {
        refuse(
          payload,
          refusal(
            'BAD_USER_INPUT',
            'The request holds a lone UTF-16 surrogate (an unpaired \\uD800-\\uDFFF); send valid Unicode text.',
          ),
        );
      }
    },
    onValidate({ addValidationRule }: { addValidationRule: (rule: typeof KnownOperationTypes) => void }) {
      addValidationRule(KnownOperationTypes);
    },
    onExecute: refuseUncoercibleVariables,
    onSubscribe: refuseUncoercibleVariables,
  };
}
