import CZlib
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The framing every binary index file shares: a header naming the file kind and format version,
/// a CRC-32 of every 4 KiB chunk of the body, and a footer with the body's and the file's
/// length and the whole file's CRC-32. A truncated or foreign file is refused at open; a flipped
/// bit is caught when a search first reads its chunk (as RocksDB checks blocks), without a
/// full-file check at every open; `kidx check` verifies everything.
///
/// Layout: `KIDX` · kind (4 ASCII bytes) · version (UInt32 LE) · body · chunk CRC-32s (UInt32
/// LE each) · body length (UInt64 LE) · length of everything before the footer's last 16 bytes
/// (UInt64 LE) · CRC-32 of the same bytes (UInt32 LE) · `XDIK`.
enum IndexFormat {
    /// The on-disk format version this build of kidx reads and writes.
    static let version: UInt32 = 17
    static let headerMagic = Array("KIDX".utf8)
    static let footerMagic = Array("XDIK".utf8)
    static let headerSize = 12
    static let footerSize = 24
    /// Body bytes per checksummed chunk, as a power of two. A read checks the chunks it
    /// touches once per process: with 64 KiB chunks a `kidx search` spent 16 % of its
    /// instructions checking 5.6 MB to read a few term blocks and ten stored documents; the
    /// checksums take 0.1 % of the body.
    static let chunkShift = 12

    /// The binary file kinds: a segment's five data files and its document table, the
    /// deletion marks a generation keeps beside a segment, and the index's analysis dictionary.
    enum Kind: String, CaseIterable {
        case terms = "TERM", postings = "POST", positions = "POSN", norms = "NORM", store = "STOR"
        case documents = "DOCS", deletions = "DELS", analysis = "ANLY"
        /// A part of a new index waiting for the index's evidence (`SegmentWriter.spill`):
        /// removed once its segment is written, never part of a published index.
        case spill = "SPIL"

        /// The files every segment has.
        static let segmentFiles: [Kind] = [.terms, .postings, .positions, .norms, .store, .documents]

        /// The kinds of file a published index has (a spill file never is one).
        static let published: [Kind] = segmentFiles + [.deletions, .analysis]

        /// The file's name inside a segment (or, for `analysis`, a generation) directory.
        var fileName: String {
            switch self {
            case .terms: return "terms.kdx"
            case .postings: return "postings.kdx"
            case .positions: return "positions.kdx"
            case .norms: return "norms.kdx"
            case .store: return "store.kdx"
            case .documents: return "documents.kdx"
            case .deletions: return "deleted.kdx"
            case .analysis: return "analysis.kdx"
            case .spill: return "words.spill"
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

    /// Extends the checksum by that of `length` bytes whose own checksum is `other` (zlib's
    /// `crc32_combine`), without reading them again.
    mutating func append(_ other: UInt32, length: Int) {
        let combined = length == Self.chunkLength
            ? crc32_combine_op(UInt(value), UInt(other), Self.chunkCombination)
            : crc32_combine(UInt(value), UInt(other), length)
        value = UInt32(truncatingIfNeeded: combined)
    }

    private static let chunkLength = 1 << IndexFormat.chunkShift
    /// `crc32_combine`'s operator for a chunk's length, made once.
    private static let chunkCombination = crc32_combine_gen(chunkLength)

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
    /// The CRC-32s of the body's completed chunks, and of the chunk being filled.
    private var chunkChecksums: [UInt32] = []
    private var chunk = Checksum()
    private var chunkFill = 0

    /// Bytes of body written so far: the offset the next body byte will have.
    var bodyOffset: Int { written + buffer.count - IndexFormat.headerSize }

    /// A new file of `kind` under its own name in `folder` (a segment's, a part's).
    convenience init(in folder: String, kind: IndexFormat.Kind) throws {
        try self.init(path: folder + "/" + kind.fileName, kind: kind)
    }

    init(path: String, kind: IndexFormat.Kind) throws {
        self.path = path
        descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw KidxError.io(path: path, reason: String(cString: strerror(errno))) }
        buffer.reserveCapacity(1 << 16)
        buffer.append(contentsOf: IndexFormat.headerMagic)
        buffer.append(contentsOf: Array(kind.rawValue.utf8))
        withUnsafeBytes(of: IndexFormat.version.littleEndian) { buffer.append(contentsOf: $0) }
        buffer.withUnsafeBytes { checksum.update($0) }
    }

    deinit {
        if !finished { close(descriptor) }
    }

    func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        var rest = bytes
        while !rest.isEmpty {
            let take = min(rest.count, (1 << IndexFormat.chunkShift) - chunkFill)
            chunk.update(UnsafeRawBufferPointer(rebasing: rest[..<take]))
            chunkFill += take
            if chunkFill == 1 << IndexFormat.chunkShift { closeChunk() }
            rest = UnsafeRawBufferPointer(rebasing: rest[take...])
        }
        buffer.append(contentsOf: bytes)
        if buffer.count >= 1 << 16 { try writeOut() }
    }

    /// The file's checksum takes each chunk's in: the body is read once, not twice (a build of
    /// 3,000 FANG articles in parts, callgrind: 535 M instructions of CRC-32 before, 354 M after).
    private func closeChunk() {
        chunkChecksums.append(chunk.value)
        checksum.append(chunk.value, length: chunkFill)
        chunk = Checksum()
        chunkFill = 0
    }

    /// Writes the chunk checksums and the footer, syncs the file to disk (unless it is
    /// temporary: `syncing` false) and closes it.
    func finish(syncing: Bool = true) throws {
        let bodyLength = UInt64(bodyOffset)
        if chunkFill > 0 { closeChunk() }
        let trailer = buffer.count
        for value in chunkChecksums { withUnsafeBytes(of: value.littleEndian) { buffer.append(contentsOf: $0) } }
        withUnsafeBytes(of: bodyLength.littleEndian) { buffer.append(contentsOf: $0) }
        let length = UInt64(written + buffer.count)
        buffer.withUnsafeBytes { checksum.update(UnsafeRawBufferPointer(rebasing: $0[trailer...])) }
        let crc = checksum.value
        withUnsafeBytes(of: length.littleEndian) { buffer.append(contentsOf: $0) }
        withUnsafeBytes(of: crc.littleEndian) { buffer.append(contentsOf: $0) }
        buffer.append(contentsOf: IndexFormat.footerMagic)
        try writeOut()
        finished = true
        defer { close(descriptor) }
        guard !syncing || fsync(descriptor) == 0 else { throw KidxError.io(path: path, reason: String(cString: strerror(errno))) }
    }

    private func writeOut() throws {
        try buffer.withUnsafeBytes { try Self.write($0, to: descriptor, path: path) }
        written += buffer.count
        buffer.removeAll(keepingCapacity: true)
    }

    /// Writes all of `bytes` to the open file `descriptor` (at its offset, which moves past
    /// them), again after a write cut short or interrupted; throws with `path` on an error.
    static func write(_ bytes: UnsafeRawBufferPointer, to descriptor: Int32, path: String) throws {
        var offset = 0
        while offset < bytes.count {
            let result = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if result < 0 {
                if errno == EINTR { continue }
                throw KidxError.io(path: path, reason: String(cString: strerror(errno)))
            }
            offset += result
        }
    }
}

/// A framed index file mapped read-only into memory. Opening checks the header and footer
/// (magic, kind, version, lengths), which catches truncation and foreign files without reading
/// the body. Readers call `check(_:)` on the bytes they decode, which verifies each chunk the
/// first time it is read; `verifyChecksum` reads it all.
final class MappedIndexFile {
    let path: String
    /// The file name, for error messages.
    let name: String
    private let mapping: UnsafeMutableRawPointer?
    private let size: Int
    /// The file's body, between the header and the chunk checksums.
    let body: UnsafeRawBufferPointer
    /// The stored CRC-32 of each body chunk.
    private let chunkChecksums: UnsafeRawBufferPointer
    /// One flag per chunk, set once the chunk was read and found intact. Several searchers may
    /// set the same flag at once: each writes 1 after the same check, so the race is benign.
    private let verified: UnsafeMutablePointer<UInt8>
    private let chunkCount: Int

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
        let bodyLength: Int
        do {
            bodyLength = try Self.checkFraming(all, kind: kind, name: name)
        } catch {
            munmap(mapped, size)
            throw error
        }
        chunkCount = (bodyLength + (1 << IndexFormat.chunkShift) - 1) >> IndexFormat.chunkShift
        body = UnsafeRawBufferPointer(rebasing: all[IndexFormat.headerSize..<(IndexFormat.headerSize + bodyLength)])
        chunkChecksums = UnsafeRawBufferPointer(rebasing: all[(IndexFormat.headerSize + bodyLength)..<(size - IndexFormat.footerSize)])
        verified = .allocate(capacity: max(chunkCount, 1))
        verified.initialize(repeating: 0, count: max(chunkCount, 1))
    }

    deinit {
        if let mapping { munmap(mapping, size) }
        verified.deallocate()
    }

    /// Checks header and footer; returns the body's length.
    private static func checkFraming(_ all: UnsafeRawBufferPointer, kind: IndexFormat.Kind, name: String) throws -> Int {
        let size = all.count
        guard Array(all[0..<4]) == IndexFormat.headerMagic, Array(all[4..<8]) == Array(kind.rawValue.utf8) else {
            throw KidxError.corruptIndex(file: name, reason: "not a kidx \(kind.rawValue) file (bad header)")
        }
        let version = UInt32(littleEndian: all.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
        guard version == IndexFormat.version else { throw KidxError.unsupportedFormat(file: name, version: Int(version)) }
        guard Array(all[(size - 4)...]) == IndexFormat.footerMagic else {
            throw KidxError.corruptIndex(file: name, reason: "file is truncated or damaged (bad footer)")
        }
        let length = UInt64(littleEndian: all.loadUnaligned(fromByteOffset: size - 16, as: UInt64.self))
        guard length == UInt64(size - 16) else {
            throw KidxError.corruptIndex(file: name, reason: "length in footer (\(length)) does not match the file (\(size - 16))")
        }
        // The body and one checksum per chunk of it must fill the space between header and footer.
        let room = size - IndexFormat.headerSize - IndexFormat.footerSize
        let stored = UInt64(littleEndian: all.loadUnaligned(fromByteOffset: size - IndexFormat.footerSize, as: UInt64.self))
        let chunkSize = UInt64(1 << IndexFormat.chunkShift)
        guard stored <= UInt64(room), stored + 4 * ((stored + chunkSize - 1) / chunkSize) == UInt64(room) else {
            throw KidxError.corruptIndex(file: name, reason: "body length in footer (\(stored)) does not match the file")
        }
        return Int(stored)
    }

    /// Verifies the chunks holding `range` of the body that were not read before; throws
    /// `corruptIndex` naming this file when one does not match its checksum.
    @inline(__always)
    func check(_ range: Range<Int>) throws {
        guard !range.isEmpty else { return }
        var chunk = range.lowerBound >> IndexFormat.chunkShift
        let last = (range.upperBound - 1) >> IndexFormat.chunkShift
        while chunk <= last {
            if verified[chunk] == 0 { try verifyChunk(chunk) }
            chunk += 1
        }
    }

    private func verifyChunk(_ chunk: Int) throws {
        guard chunk >= 0, chunk < chunkCount else {
            throw KidxError.corruptIndex(file: name, reason: "read past the end of the data (chunk \(chunk))")
        }
        let start = chunk << IndexFormat.chunkShift
        let bytes = UnsafeRawBufferPointer(rebasing: body[start..<min(start + (1 << IndexFormat.chunkShift), body.count)])
        let stored = UInt32(littleEndian: chunkChecksums.loadUnaligned(fromByteOffset: chunk * 4, as: UInt32.self))
        let actual = Checksum.of(bytes)
        guard stored == actual else {
            throw KidxError.corruptIndex(file: name, reason: String(format: "checksum mismatch in bytes %d..<%d (stored %08x, computed %08x)",
                                                                     start, start + bytes.count, stored, actual))
        }
        verified[chunk] = 1
    }

    /// Reads the whole file and compares its CRC-32 with the footer's, then every chunk's.
    func verifyChecksum() throws {
        let all = UnsafeRawBufferPointer(start: mapping, count: size)
        let stored = UInt32(littleEndian: all.loadUnaligned(fromByteOffset: size - 8, as: UInt32.self))
        let actual = Checksum.of(UnsafeRawBufferPointer(rebasing: all[0..<(size - 16)]))
        guard stored == actual else {
            throw KidxError.corruptIndex(file: name, reason: String(format: "checksum mismatch (stored %08x, computed %08x)", stored, actual))
        }
        for chunk in 0..<chunkCount { try verifyChunk(chunk) }
    }

    /// The file's size on disk in bytes.
    var fileSize: Int { size }

    /// Lets go of the pages read so far: they stay in the page cache, but no longer count in
    /// this process's memory. A merge reads whole segments once; without this, its resident
    /// size would grow by every byte it read.
    func releasePages() {
        if let mapping { madvise(mapping, size, MADV_DONTNEED) }
    }
}
