// Chunked input: refilling the buffer, whitespace skipping, positions, error helpers.

extension JSONParser {
    /// Replaces the (fully consumed) buffer with the next chunk. Returns false at end of input.
    func refill() throws(JSONError) -> Bool {
        if eof { return false }
        base &+= end
        pos = 0
        end = 0
        let n: Int
        do {
            n = try source.read(into: UnsafeMutableRawBufferPointer(start: buf, count: bufCapacity))
        } catch {
            throw JSONError(kind: .io, position: positionAt(base), message: "\(error)")
        }
        if n <= 0 {
            eof = true
            return false
        }
        end = min(n, bufCapacity)
        return true
    }

    /// Returns the next non-whitespace byte without consuming it, or nil at end of input.
    @inline(__always)
    func peekNonWhitespace() throws(JSONError) -> UInt8? {
        var p = pos
        while true {
            let e = end
            while p < e {
                let c = buf[p]
                if c > 0x20 { pos = p; return c }
                if c == 0x0A {
                    line &+= 1
                    lineStart = base &+ p &+ 1
                } else if c != 0x20 && c != 0x09 && c != 0x0D {
                    pos = p
                    return c
                }
                p &+= 1
            }
            pos = p
            guard try refill() else { return nil }
            p = 0
        }
    }

    /// Position of absolute offset `abs`, which must lie on the current line.
    @inline(__always)
    func positionAt(_ abs: Int) -> JSONPosition {
        JSONPosition(line: line, column: abs &- lineStart &+ 1, offset: abs)
    }

    func unexpected(_ c: UInt8, _ expectation: StaticString) -> JSONError {
        JSONError(kind: .unexpectedCharacter, position: positionAt(base &+ pos),
                  message: "\(expectation), found \(describeByte(c))")
    }

    func truncatedError(_ what: String) -> JSONError {
        JSONError(kind: .truncated, position: positionAt(base &+ end), message: "\(what)")
    }
}
