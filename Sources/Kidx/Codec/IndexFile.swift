import CZlib
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The framing every binary index file shares: a header naming the file kind and format version,
/// and a footer with the file's length and CRC-32, so that a truncated or foreign file is refused
/// at open and a flipped bit is caught by `kidx check`.
///
/// Layout: `KIDX` · kind (4 ASCII bytes) · version (UInt32 LE) · body · length of everything
/// before the footer (UInt64 LE) · CRC-32 of the same bytes (UInt32 LE) · `XDIK`.
enum IndexFormat {
    /// The on-disk format version this build of kidx reads and writes.
    static let version: UInt32 = 3
    static let headerMagic = Array("KIDX".utf8)
    static let footerMagic = Array("XDIK".utf8)
    static let headerSize = 12
    static let footerSize = 16

    /// The binary file kinds of a segment.
    enum Kind: String, CaseIterable {
        case terms = "TERM", postings = "POST", positions = "POSN", norms = "NORM", store = "STOR"

        /// The file's name inside a segment directory.
        var fileName: String {
            switch self {
            case .terms: return "terms.kdx"
            case .postings: return "postings.kdx"
            case .positions: return "positions.kdx"
            case .norms: return "norms.kdx"
            case .store: return "store.kdx"
            }
        }
    }
}

/// CRC-32 (zlib's), updated incrementally.
struct Checksum {
    private(set) var value: UInt32 = 0

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        var rest = bytes
        while !rest.isEmpty {
            let chunk = min(rest.count, Int(Int32.max))
            value = UInt32(truncatingIfNeeded: crc32(UInt(value), rest.baseAddress!.assumingMemoryBound(to: Bytef.self), uInt(chunk)))
            rest = UnsafeRawBufferPointer(rebasing: rest[chunk...])
        }
    }

    static func of(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var checksum = Checksum()
        checksum.update(bytes)
        return checksum.value
    }
}

/// Writes one framed index file front to back through a buffer, checksumming as it goes.
final class IndexFileWriter {
    let path: String
    private let descriptor: Int32
    private var buffer: [UInt8] = []
    private var checksum = Checksum()
    private var written = 0
    private var finished = false

    /// Bytes of body written so far: the offset the next body byte will have.
    var bodyOffset: Int { written + buffer.count - IndexFormat.headerSize }

    init(path: String, kind: IndexFormat.Kind) throws {
        self.path = path
        descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw KidxError.io(path: path, reason: String(cString: strerror(errno))) }
        buffer.reserveCapacity(1 << 16)
        buffer.append(contentsOf: IndexFormat.headerMagic)
        buffer.append(contentsOf: Array(kind.rawValue.utf8))
        withUnsafeBytes(of: IndexFormat.version.littleEndian) { buffer.append(contentsOf: $0) }
    }

    deinit {
        if !finished { close(descriptor) }
    }

    func write(_ bytes: [UInt8]) throws {
        buffer.append(contentsOf: bytes)
        if buffer.count >= 1 << 16 { try flush() }
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        buffer.append(contentsOf: bytes)
        if buffer.count >= 1 << 16 { try flush() }
    }

    /// Writes the footer, syncs the file to disk and closes it.
    func finish() throws {
        let length = UInt64(written + buffer.count)
        buffer.withUnsafeBytes { checksum.update($0) }
        let crc = checksum.value
        withUnsafeBytes(of: length.littleEndian) { buffer.append(contentsOf: $0) }
        withUnsafeBytes(of: crc.littleEndian) { buffer.append(contentsOf: $0) }
        buffer.append(contentsOf: IndexFormat.footerMagic)
        try writeOut()
        finished = true
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw KidxError.io(path: path, reason: String(cString: strerror(errno))) }
    }

    private func flush() throws {
        buffer.withUnsafeBytes { checksum.update($0) }
        try writeOut()
    }

    private func writeOut() throws {
        try buffer.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let result = Glibc.write(descriptor, raw.baseAddress! + offset, raw.count - offset)
                if result < 0 {
                    if errno == EINTR { continue }
                    throw KidxError.io(path: path, reason: String(cString: strerror(errno)))
                }
                offset += result
            }
        }
        written += buffer.count
        buffer.removeAll(keepingCapacity: true)
    }
}

/// A framed index file mapped read-only into memory. Opening checks the header and footer
/// (magic, kind, version, length), which catches truncation and foreign files without reading
/// the body; `verifyChecksum` reads it all.
final class MappedIndexFile {
    let path: String
    /// The file name, for error messages.
    let name: String
    private let mapping: UnsafeMutableRawPointer?
    private let size: Int
    /// The file's body, between header and footer.
    let body: UnsafeRawBufferPointer

    init(path: String, kind: IndexFormat.Kind) throws {
        self.path = path
        name = String(path.split(separator: "/").last ?? Substring(path))
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw errno == ENOENT
                ? KidxError.corruptIndex(file: name, reason: "file is missing")
                : KidxError.io(path: path, reason: String(cString: strerror(errno)))
        }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw KidxError.io(path: path, reason: String(cString: strerror(errno))) }
        size = Int(info.st_size)
        guard size >= IndexFormat.headerSize + IndexFormat.footerSize else {
            throw KidxError.corruptIndex(file: name, reason: "file is truncated (\(size) bytes)")
        }
        let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0)
        guard let mapped, mapped != MAP_FAILED else { throw KidxError.io(path: path, reason: "cannot map: \(String(cString: strerror(errno)))") }
        mapping = mapped
        let all = UnsafeRawBufferPointer(start: mapped, count: size)
        body = UnsafeRawBufferPointer(rebasing: all[IndexFormat.headerSize..<(size - IndexFormat.footerSize)])
        try checkFraming(all, kind: kind)
    }

    deinit {
        if let mapping { munmap(mapping, size) }
    }

    private func checkFraming(_ all: UnsafeRawBufferPointer, kind: IndexFormat.Kind) throws {
        guard Array(all[0..<4]) == IndexFormat.headerMagic, Array(all[4..<8]) == Array(kind.rawValue.utf8) else {
            throw KidxError.corruptIndex(file: name, reason: "not a kidx \(kind.rawValue) file (bad header)")
        }
        let version = UInt32(littleEndian: all.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
        guard version == IndexFormat.version else { throw KidxError.unsupportedFormat(file: name, version: Int(version)) }
        guard Array(all[(size - 4)...]) == IndexFormat.footerMagic else {
            throw KidxError.corruptIndex(file: name, reason: "file is truncated or damaged (bad footer)")
        }
        let length = UInt64(littleEndian: all.loadUnaligned(fromByteOffset: size - IndexFormat.footerSize, as: UInt64.self))
        guard length == UInt64(size - IndexFormat.footerSize) else {
            throw KidxError.corruptIndex(file: name, reason: "length in footer (\(length)) does not match the file (\(size - IndexFormat.footerSize))")
        }
    }

    /// Reads the whole file and compares its CRC-32 with the footer's.
    func verifyChecksum() throws {
        let all = UnsafeRawBufferPointer(start: mapping, count: size)
        let stored = UInt32(littleEndian: all.loadUnaligned(fromByteOffset: size - 8, as: UInt32.self))
        let actual = Checksum.of(UnsafeRawBufferPointer(rebasing: all[0..<(size - IndexFormat.footerSize)]))
        guard stored == actual else {
            throw KidxError.corruptIndex(file: name, reason: String(format: "checksum mismatch (stored %08x, computed %08x)", stored, actual))
        }
    }

    /// The file's size on disk in bytes.
    var fileSize: Int { size }
}
