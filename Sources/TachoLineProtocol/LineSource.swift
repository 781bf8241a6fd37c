// Byte sources the line-protocol parser pulls chunks from.

/// A sequential source of bytes.
///
/// The requirement is spelled exactly like `TachoJSON.JSONByteSource`'s, so a module that
/// imports both can make a file source serve either parser with an empty extension
/// (`extension FileDescriptorSource: LineProtocolByteSource {}`); this module stays free of
/// TachoJSON.
public protocol LineProtocolByteSource {
    /// Copies up to `buffer.count` bytes into `buffer` and returns how many were copied.
    /// Returns 0 only at the end of the input.
    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

/// An in-memory source over a byte array: tests, and request bodies that are already in
/// memory (an HTTP write).
public struct LineBytesSource: LineProtocolByteSource, Sendable {
    public let bytes: [UInt8]
    /// Read offset.
    public private(set) var offset: Int = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// UTF-8 bytes of `string`.
    public init(_ string: String) { self.bytes = Array(string.utf8) }

    public mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = min(buffer.count, bytes.count - offset)
        guard n > 0, let destination = buffer.baseAddress else { return 0 }
        bytes.withUnsafeBytes { src in
            if let from = src.baseAddress { destination.copyMemory(from: from + offset, byteCount: n) }
        }
        offset += n
        return n
    }
}
