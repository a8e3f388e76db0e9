import CZstd

/// Writes stored documents in zstd-compressed blocks of about 64 KiB of text, so that reading one
/// hit decompresses one block, and the store stays a fraction of the raw text.
///
/// Body layout: blocks (uncompressed length UInt32 LE · zstd frame) · per block its first
/// document (UInt32 LE) and byte offset (UInt64 LE) · block count (UInt64) · document count (UInt64).
final class DocumentStoreWriter {
    static let targetBlockBytes = 64 * 1024
    static let compressionLevel: Int32 = 3

    private let file: IndexFileWriter
    private var pending = ByteWriter()
    private var pendingFirstDoc = 0
    private var documentCount = 0
    private var blocks: [(firstDoc: UInt32, offset: UInt64)] = []
    private var compressed: [UInt8] = []

    init(file: IndexFileWriter) { self.file = file }

    func add(_ document: Document) throws {
        if pending.count == 0 { pendingFirstDoc = documentCount }
        pending.appendString(document.id)
        pending.appendString(document.title)
        pending.appendString(document.body)
        for optional in [document.date, document.url, document.source] {
            pending.appendString(optional ?? "")
        }
        documentCount += 1
        if pending.count >= Self.targetBlockBytes { try flushBlock() }
    }

    func finish() throws {
        if pending.count > 0 { try flushBlock() }
        var trailer = ByteWriter()
        for block in blocks {
            trailer.appendUInt32(block.firstDoc)
            trailer.appendUInt64(block.offset)
        }
        trailer.appendUInt64(UInt64(blocks.count))
        trailer.appendUInt64(UInt64(documentCount))
        try file.write(trailer.bytes)
    }

    private func flushBlock() throws {
        let bound = ZSTD_compressBound(pending.count)
        if compressed.count < bound { compressed = [UInt8](repeating: 0, count: bound) }
        let size = pending.bytes.withUnsafeBytes { source in
            compressed.withUnsafeMutableBytes { target in
                ZSTD_compress(target.baseAddress, target.count, source.baseAddress, source.count, Self.compressionLevel)
            }
        }
        guard ZSTD_isError(size) == 0 else { throw KidxError.io(path: file.path, reason: "zstd compression failed") }
        blocks.append((UInt32(pendingFirstDoc), UInt64(file.bodyOffset)))
        var header = ByteWriter()
        header.appendUInt32(UInt32(pending.count))
        try file.write(header.bytes)
        try compressed.withUnsafeBytes { try file.write(UnsafeRawBufferPointer(rebasing: $0[0..<size])) }
        pending.removeAll()
    }
}

/// Reads stored documents by internal number.
struct DocumentStore {
    /// Keeps the mapping alive as long as `body` is used.
    private let mapped: MappedIndexFile
    private let body: UnsafeRawBufferPointer
    private let file: String
    private let blockCount: Int
    private let blockTable: Int
    let documentCount: Int

    init(file mapped: MappedIndexFile) throws {
        self.mapped = mapped
        body = mapped.body
        file = mapped.name
        guard body.count >= 16 else { throw KidxError.corruptIndex(file: file, reason: "store trailer is missing") }
        var trailer = ByteReader(body, offset: body.count - 16, file: file)
        blockCount = try trailer.readCount(atMost: (body.count - 16) / 12)
        documentCount = try trailer.readCount(atMost: Int(Int32.max))
        blockTable = body.count - 16 - blockCount * 12
        try mapped.check(blockTable..<body.count)
    }

    private func block(_ index: Int) -> (firstDoc: Int, offset: Int) {
        let entry = blockTable + index * 12
        let firstDoc = Int(UInt32(littleEndian: body.loadUnaligned(fromByteOffset: entry, as: UInt32.self)))
        let offset = Int(truncatingIfNeeded: UInt64(littleEndian: body.loadUnaligned(fromByteOffset: entry + 4, as: UInt64.self)))
        return (firstDoc, offset)
    }

    /// Every stored document in order, each block decompressed once.
    func forEach(_ body: (Int, Document) throws -> Void) throws {
        for index in 0..<blockCount {
            let first = block(index).firstDoc
            let end = index + 1 < blockCount ? block(index + 1).firstDoc : documentCount
            guard first <= end else { throw KidxError.corruptIndex(file: file, reason: "block \(index) starts past the next one") }
            let plain = try decompress(block: index)
            try plain.withUnsafeBytes { raw in
                var entries = ByteReader(raw, file: file)
                for doc in first..<end { try body(doc, try Self.decode(&entries)) }
            }
        }
    }

    /// The stored document number `doc` (0-based, in indexing order).
    func document(_ doc: Int) throws -> Document {
        guard doc >= 0, doc < documentCount, blockCount > 0 else {
            throw KidxError.corruptIndex(file: file, reason: "document \(doc) is not in the store")
        }
        var low = 0, high = blockCount - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if block(middle).firstDoc <= doc { low = middle } else { high = middle - 1 }
        }
        guard block(low).firstDoc <= doc else { throw KidxError.corruptIndex(file: file, reason: "block \(low) starts past document \(doc)") }
        let plain = try decompress(block: low)
        return try plain.withUnsafeBytes { raw in
            var entries = ByteReader(raw, file: file)
            for _ in block(low).firstDoc..<doc {
                for _ in 0..<6 { _ = try entries.readBytes(try entries.readInt()) }
            }
            return try Self.decode(&entries)
        }
    }

    /// The largest block a store holds (one document of up to 1 GiB).
    static let maximumBlockBytes = 1 << 30

    private static func decode(_ entries: inout ByteReader) throws -> Document {
        let id = try entries.readString(), title = try entries.readString(), text = try entries.readString()
        let date = try entries.readString(), url = try entries.readString(), source = try entries.readString()
        return Document(id: id, title: title, body: text, date: date.isEmpty ? nil : date,
                        url: url.isEmpty ? nil : url, source: source.isEmpty ? nil : source)
    }

    private func decompress(block index: Int) throws -> [UInt8] {
        let start = block(index).offset
        let end = index + 1 < blockCount ? block(index + 1).offset : blockTable
        guard start >= 0, end <= blockTable, start <= end - 4 else { throw KidxError.corruptIndex(file: file, reason: "block \(index) has a bad offset") }
        try mapped.check(start..<end)
        var reader = ByteReader(body, offset: start, file: file)
        let length = Int(try reader.readUInt32())
        // Blocks hold 64 KiB of documents, or one larger document: a damaged length must not
        // allocate gigabytes.
        guard length <= Self.maximumBlockBytes else { throw KidxError.corruptIndex(file: file, reason: "block \(index) claims \(length) bytes") }
        let frame = try reader.readBytes(end - reader.offset)
        guard ZSTD_getFrameContentSize(frame.baseAddress, frame.count) == UInt64(length) else {
            throw KidxError.corruptIndex(file: file, reason: "block \(index) length does not match its frame")
        }
        var plain = [UInt8](repeating: 0, count: length)
        let size = plain.withUnsafeMutableBytes { ZSTD_decompress($0.baseAddress, length, frame.baseAddress, frame.count) }
        guard ZSTD_isError(size) == 0, size == length else {
            throw KidxError.corruptIndex(file: file, reason: "block \(index) does not decompress")
        }
        return plain
    }
}
