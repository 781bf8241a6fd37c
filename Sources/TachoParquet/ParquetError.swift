/// The errors of the Parquet writer, with the facts to name.
public enum ParquetError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A null appended to a REQUIRED column.
    case nullInRequiredColumn(column: String)
    /// A row group whose columns hold different numbers of rows.
    case columnLengthMismatch(column: String, rows: Int, expected: Int)
    /// A value too large for a page (Parquet sizes are 32-bit).
    case pageTooLarge(column: String, bytes: Int)
    case compression(column: String, message: String)
    /// The sink failed (write, fsync, rename), with the path and errno text.
    case io(path: String, operation: String, message: String)
    case closed

    public var description: String {
        switch self {
        case .nullInRequiredColumn(let c): "parquet: null in required column \(c)"
        case .columnLengthMismatch(let c, let r, let e): "parquet: column \(c) holds \(r) rows, expected \(e)"
        case .pageTooLarge(let c, let b): "parquet: a page of column \(c) would be \(b) bytes (more than 2 GiB)"
        case .compression(let c, let m): "parquet: zstd failed on column \(c): \(m)"
        case .io(let p, let op, let m): "\(p): \(op): \(m)"
        case .closed: "parquet: writer already closed"
        }
    }
}
