/** The STIX 2.1 pattern AST produced by pattern-parser.ts (re-exported by pattern.ts). */

export type ObservationOperator = 'AND' | 'OR' | 'FOLLOWEDBY';
export type ComparisonJoin = 'AND' | 'OR';
export type ComparisonOperator =
  | '='
  | '!='
  | '<'
  | '<='
  | '>'
  | '>='
  | 'IN'
  | 'LIKE'
  | 'MATCHES'
  | 'ISSUBSET'
  | 'ISSUPERSET';

export type Qualifier =
  | { kind: 'within'; seconds: string }
  | { kind: 'repeats'; times: string }
  | { kind: 'start-stop'; start: string; stop: string };

export type Literal =
  | { kind: 'string'; value: string }
  | { kind: 'int'; text: string }
  | { kind: 'float'; text: string }
  | { kind: 'bool'; value: boolean }
  | { kind: 'hex'; value: string }
  | { kind: 'binary'; value: string }
  | { kind: 'timestamp'; value: string };

export type PathStep = { kind: 'key'; name: string } | { kind: 'index'; index: number | '*' };

export interface ObjectPath {
  objectType: string;
  /** The first step is always a key. */
  steps: PathStep[];
}

export type ComparisonExpression =
  | { kind: 'comparison'; path: ObjectPath; negated: boolean; operator: ComparisonOperator; value: Literal | Literal[] }
  | { kind: 'exists'; negated: boolean; path: ObjectPath }
  | { kind: 'comparison-op'; op: ComparisonJoin; operands: ComparisonExpression[] };

/**
 * An observation expression. Chains of one operator are n-ary (`a AND b AND c` is one node with
 * three operands, also when written with redundant parentheses); qualifiers apply in list order.
 */
export type ObservationExpression =
  | { kind: 'observation'; comparison: ComparisonExpression; qualifiers: Qualifier[] }
  | { kind: 'observation-op'; op: ObservationOperator; operands: ObservationExpression[]; qualifiers: Qualifier[] };

export type PatternNode = ObservationExpression;
