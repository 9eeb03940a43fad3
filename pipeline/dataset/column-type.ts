import { DataType, Type } from 'apache-arrow';
import type { FixedSizeList } from 'apache-arrow';

/**
 * A stable, human-readable name for an Arrow column type, as recorded in manifests:
 * `int64`, `uint8`, `float32`, `utf8`, `fixed_size_list<uint8>[784]`, `list<int32>`, `large_list<float32>`, ...
 * Returns null for types the pipeline does not handle.
 */
export function columnTypeName(type: DataType): string | null {
  if (DataType.isInt(type)) return `${type.isSigned ? 'int' : 'uint'}${type.bitWidth}`;
  if (DataType.isFloat(type)) return type.precision === 0 ? 'float16' : type.precision === 1 ? 'float32' : 'float64';
  if (DataType.isUtf8(type) || DataType.isLargeUtf8(type)) return 'utf8';
  if (DataType.isBool(type)) return 'bool';
  if (DataType.isFixedSizeList(type)) {
    const list = type as FixedSizeList;
    const inner = columnTypeName(list.children[0]!.type);
    return inner && !inner.startsWith('fixed_size_list') ? `fixed_size_list<${inner}>[${list.listSize}]` : null;
  }
  if (DataType.isList(type) || DataType.isLargeList(type)) {
    const inner = columnTypeName((type as unknown as { children: { type: DataType }[] }).children[0]!.type);
    const numeric = inner !== null && numericWidth(inner) !== null;
    return numeric ? `${DataType.isLargeList(type) ? 'large_list' : 'list'}<${inner}>` : null;
  }
  return null;
}

/** Bytes per element of a numeric type name, or null. */
export function numericWidth(name: string): number | null {
  const m = /^(?:u?int|float)(8|16|32|64)$/.exec(name);
  return m ? Number(m[1]) / 8 : null;
}

/** True for Arrow integer types. */
export function isIntegerType(type: DataType): boolean {
  return type.typeId === Type.Int;
}
