import CZstd

/// Writes stored documents in zstd-compressed blocks of about 64 KiB of text, so that reading one
/// hit decompresses one block, and the store stays a fraction of the raw text. The blocks share
/// a zstd dictionary trained on the segment's first documents (or given: the parts of one build
/// share the first part's, so that merging them copies their blocks): news articles repeat
/// phrases, outlets and URL patterns that a 64 KiB block alone cannot exploit (on FANG text:
/// 0.42 of the raw size without, 0.35 with it at level 7, 0.343 at level 6 with the tables of
/// `parameters(dictionaryBytes:)`, searched in place).
///
/// Body layout: dictionary length (UInt32 LE, 0: none) · dictionary · blocks (uncompressed length
/// UInt32 LE · zstd frame) · per block its first document (UInt32 LE) and byte offset (UInt64
/// LE) · block count (UInt64) · document count (UInt64).
final class DocumentStoreWriter {
    static let targetBlockBytes = 64 * 1024
    /// With the tables of `parameters(dictionaryBytes:)`, level 6 differs from level 7 only in
    /// its target length (a match of 4 bytes ends the search, not 8), which cost nothing in the
    /// blocks compressed with the dictionary (a 3,000-article build, callgrind, one thread: 6.44 G
    /// instructions either way) and made the dictionary's training and the blocks compressed
    /// without one (parts too small to train one) cheaper: that build 22.42 G against 22.58 G in
    /// all, 28.22 G against 28.90 G with `--memory 24`. FANG's store took 54,798,471 bytes
    /// against 54,796,777. Level 5 (greedy matching) took 2.7 % more bytes, 2^4 searches 0.9 %
    /// (and 5 % fewer instructions in all).
    static let compressionLevel: Int32 = 6
    /// The dictionary's size at most, and the text it is trained on: the first documents, held
    /// uncompressed until there are this many bytes of them (or the segment ends).
    static let dictionaryBytes = 448 * 1024
    static let trainingBytes = 8 << 20

    private var pending = ByteWriter()
    private var pendingFirstDoc = 0
    private var documentCount = 0
    private var ended = false
    /// Until the dictionary is trained: the blocks held, and each document's length in them
    /// (the training samples).
    private var held: [(firstDoc: Int, bytes: [UInt8])] = []
    private var heldBytes = 0
    private var sampleSizes: [Int] = []
    /// Writes the blocks, compressed as `compression` says.
    private let blocks: BlockWriter
    private let compression: Compression

    /// Where the blocks are compressed.
    private enum Compression {
        /// Here, as they are added.
        case inPlace(ZstdCompression)
        /// On a build's compression thread, from this store's spool.
        case background(BackgroundCompression.Store)
    }

    /// How the store gets its dictionary.
    enum DictionarySource {
        /// Trained on the first documents added.
        case trained
        /// Given: these bytes (none when empty), as another store of the same index trained them,
        /// so that a merge can copy that store's blocks as they are.
        case given([UInt8])
    }

    /// The dictionary's bytes (empty: none), once decided: at once when given, else when the
    /// training documents are in or no more documents come.
    private(set) var dictionaryBytes: [UInt8]?
    private var trained: Bool { dictionaryBytes != nil }

    /// A writer of the store `file`. With `background`, the blocks' text goes to a spool file
    /// (`spool`, removed when done) and the build's compression thread compresses them (see
    /// `BackgroundCompression`): while documents come in, a build's other threads stay busy
    /// analyzing (zstd at level 7 took a quarter of that phase's processor time), and the
    /// compression runs in the time they leave idle, mostly while the postings are written on
    /// one thread. The dictionary is trained here either way.
    init(file: IndexFileWriter, dictionary: DictionarySource = .trained, background: (BackgroundCompression, spool: String)? = nil) throws {
        let blocks = BlockWriter(file: file)
        self.blocks = blocks
        if let (thread, spool) = background {
            compression = .background(try thread.store(writingTo: blocks, spool: spool))
        } else {
            compression = .inPlace(ZstdCompression())
        }
        if case .given(let bytes) = dictionary { try use(dictionary: bytes) }
    }

    deinit {
        if case .background(let store) = compression { store.cancel() }
    }

    func add(_ document: Document) throws {
        precondition(!ended, "a document added to a store after its last")
        if pending.count == 0 { pendingFirstDoc = documentCount }
        let start = pending.count
        pending.appendString(document.id)
        pending.appendString(document.title)
        pending.appendString(document.body)
        for optional in [document.date, document.url, document.source] {
            pending.appendString(optional ?? "")
        }
        if !trained { sampleSizes.append(pending.count - start) }
        documentCount += 1
        if pending.count >= Self.targetBlockBytes { try flushBlock() }
    }

    /// No more documents come: the last block goes to be compressed, and the dictionary is
    /// decided if it is not (`dictionaryBytes`).
    func endDocuments() throws {
        guard !ended else { return }
        ended = true
        if pending.count > 0 { try flushBlock() }
        if !trained { try train() }
    }

    /// Writes the last block and the block table; in the background, once every block is
    /// compressed (waiting for them).
    func finish() throws {
        try endDocuments()
        if case .background(let store) = compression { try store.finish() }
        try blocks.finish(documentCount: documentCount)
    }

    private func flushBlock() throws {
        if trained {
            try compress(pending.bytes, firstDoc: pendingFirstDoc)
        } else {
            held.append((pendingFirstDoc, pending.bytes))
            heldBytes += pending.count
            if heldBytes >= Self.trainingBytes { try train() }
        }
        pending.removeAll()
    }

    private func compress(_ block: [UInt8], firstDoc: Int) throws {
        switch compression {
        case .inPlace(let zstd): try blocks.write(block, firstDoc: firstDoc, compressingWith: zstd)
        case .background(let store): try store.add(block, firstDoc: firstDoc)
        }
    }

    /// zstd's fastCover with fixed parameters, one training: `ZDICT_trainFromBuffer` tries five
    /// segment sizes (k) and took 1.6 s of one thread on FANG's first 8 MiB, while the build's
    /// other threads waited for the documents held. Measured on FANG (the first 8 MiB as
    /// samples, every 64 KiB block compressed at level 7): k = 200, d = 8, f = 20 with
    /// acceleration 10 trains in 0.5 s and stores 0.3350 of the raw fields, against 0.3364.
    private static let trainingParameters: ZDICT_fastCover_params_t = {
        var parameters = ZDICT_fastCover_params_t()
        parameters.k = 200
        parameters.d = 8
        parameters.f = 20
        parameters.accel = 10
        parameters.zParams.compressionLevel = compressionLevel
        return parameters
    }()

    /// Trains the dictionary on the documents held (none for a small segment, where it would
    /// not pay for itself), writes it, and then the blocks held.
    private func train() throws {
        if heldBytes >= 8 * Self.dictionaryBytes {
            let samples = held.flatMap(\.bytes)
            var trainedDictionary = [UInt8](repeating: 0, count: Self.dictionaryBytes)
            let size = trainedDictionary.withUnsafeMutableBytes { target in
                samples.withUnsafeBytes { source in
                    ZDICT_trainFromBuffer_fastCover(target.baseAddress, target.count, source.baseAddress, sampleSizes, UInt32(sampleSizes.count),
                                                    Self.trainingParameters)
                }
            }
            if ZDICT_isError(size) == 0 {
                trainedDictionary.removeLast(trainedDictionary.count - size)
                try use(dictionary: trainedDictionary)
            }
        }
        if dictionaryBytes == nil { try use(dictionary: []) }
        sampleSizes = []
        for block in held { try compress(block.bytes, firstDoc: block.firstDoc) }
        held = []
        heldBytes = 0
    }

    /// Decides on the dictionary (empty: none) that compresses every block: before any block
    /// is compressed, so before the compression thread touches the file.
    private func use(dictionary bytes: [UInt8]) throws {
        dictionaryBytes = bytes
        try blocks.use(dictionary: bytes)
    }

    /// Appends every document of `store`: its blocks copied as they are when it was compressed
    /// with this store's dictionary, else its documents compressed again. The dictionary must be
    /// decided (given at creation); not in the background.
    func append(_ store: DocumentStore) throws {
        guard case .inPlace = compression, trained else { preconditionFailure("a store is appended to one with a given dictionary, not in the background") }
        guard store.dictionary.elementsEqual(dictionaryBytes!) else {
            try append(store) { _, _ in true }
            return
        }
        if pending.count > 0 { try flushBlock() }
        try blocks.copyBlocks(of: store, firstDoc: documentCount)
        documentCount += store.documentCount
    }

    /// Appends the documents of `store` that `keep` (given each one's number in `store`) returns
    /// true for, compressed again.
    func append(_ store: DocumentStore, keeping keep: (Int, Document) throws -> Bool) throws {
        try store.forEach { doc, document in
            if try keep(doc, document) { try add(document) }
        }
    }
}

/// Writes a store's blocks to its file, compressed with its dictionary, then the block table.
/// Used by one thread at a time.
final class BlockWriter {
    private let file: IndexFileWriter
    private var blocks: [(firstDoc: UInt32, offset: UInt64)] = []
    private var compressed: [UInt8] = []
    /// The dictionary, once written.
    private(set) var dictionary: [UInt8] = []

    init(file: IndexFileWriter) {
        self.file = file
    }

    /// Writes the dictionary (empty: none) that compresses every block: first, before them.
    func use(dictionary bytes: [UInt8]) throws {
        dictionary = bytes
        var header = ByteWriter()
        header.appendUInt32(UInt32(bytes.count))
        try file.write(header.bytes)
        try file.write(bytes)
    }

    /// Compresses a block of documents, the first numbered `firstDoc`, with `zstd`, and writes it.
    func write(_ block: [UInt8], firstDoc: Int, compressingWith zstd: ZstdCompression) throws {
        let size = zstd.compress(block, dictionary: dictionary, into: &compressed)
        guard ZSTD_isError(size) == 0 else { throw KidxError.io(path: file.path, reason: "zstd compression failed") }
        blocks.append((UInt32(firstDoc), UInt64(file.bodyOffset)))
        var header = ByteWriter()
        header.appendUInt32(UInt32(block.count))
        try file.write(header.bytes)
        try compressed.withUnsafeBytes { try file.write(UnsafeRawBufferPointer(rebasing: $0[0..<size])) }
    }

    /// Copies the compressed blocks of `store` (made with this dictionary), its documents
    /// numbered from `firstDoc`.
    func copyBlocks(of store: DocumentStore, firstDoc: Int) throws {
        try store.forEachCompressedBlock { storeFirstDoc, bytes in
            blocks.append((UInt32(firstDoc + storeFirstDoc), UInt64(file.bodyOffset)))
            try file.write(bytes)
        }
    }

    /// Writes the block table after the blocks.
    func finish(documentCount: Int) throws {
        var trailer = ByteWriter()
        for block in blocks {
            trailer.appendUInt32(block.firstDoc)
            trailer.appendUInt64(block.offset)
        }
        trailer.appendUInt64(UInt64(blocks.count))
        trailer.appendUInt64(UInt64(documentCount))
        try file.write(trailer.bytes)
    }
}

/// A zstd compression context and the prepared tables of the dictionary it last used (made on
/// first use: 3.7 MB and 4.1 MB with FANG's 448 KiB dictionary and `parameters`, by zstd's
/// estimates, where level 7's defaults took 6.8 and 8.9 MB), for one thread at a time: the stores
/// of one build's parts, which share a dictionary, share one.
final class ZstdCompression {
    private let context: OpaquePointer
    private var prepared: (dictionary: [UInt8], tables: OpaquePointer)?

    init() {
        context = ZSTD_createCCtx()
        // A block searches the dictionary's tables where they are (zstd's "attach" mode) rather
        // than a copy of them made per block (2.5 MB with `parameters`' tables for 64 KiB of
        // text): a 3,000-article build (callgrind, one thread) took 21.97 G instructions against
        // 22.42 G, and its store 7,471,595 bytes against 7,491,179.
        ZSTD_CCtx_setParameter(context, ZSTD_c_experimentalParam4 /* ZSTD_c_forceAttachDict */, Int32(ZSTD_dictForceAttach.rawValue))
    }

    deinit {
        ZSTD_freeCCtx(context)
        if let prepared { ZSTD_freeCDict(prepared.tables) }
    }

    /// Compresses `block` with `dictionary` (empty: none) at the store's level into `output`
    /// (grown to fit); returns the compressed size or a zstd error code.
    func compress(_ block: [UInt8], dictionary: [UInt8], into output: inout [UInt8]) -> Int {
        let bound = ZSTD_compressBound(block.count)
        if output.count < bound { output = [UInt8](repeating: 0, count: bound) }
        let tables = dictionary.isEmpty ? nil : self.tables(for: dictionary)
        return block.withUnsafeBytes { source in
            output.withUnsafeMutableBytes { target in
                // The context keeps the dictionary referenced until another (or none) replaces it;
                // a session cut short by an error must not keep it from being replaced.
                ZSTD_CCtx_reset(context, ZSTD_reset_session_only)
                let referenced = ZSTD_CCtx_refCDict(context, tables)
                if ZSTD_isError(referenced) != 0 { return referenced }
                if tables != nil {
                    return ZSTD_compress2(context, target.baseAddress, target.count, source.baseAddress, source.count)
                }
                return ZSTD_compressCCtx(context, target.baseAddress, target.count, source.baseAddress, source.count, DocumentStoreWriter.compressionLevel)
            }
        }
    }

    /// zstd's parameters for the store's level, its blocks and a dictionary of this size, with
    /// smaller tables and a deeper search. Compressing a block with a dictionary started by copying
    /// the dictionary's tables, which `ZSTD_createCDict` sizes for input of unknown length (2^20
    /// hash and 2^19 chain entries at level 7): the copy was a fifth of the compression's time
    /// (blocks now search the dictionary's tables in place: `init`).
    /// On FANG's stored fields (64 KiB blocks, the dictionary of the first 8 MiB), alternating
    /// runs: 10.4 to 11.4 s of compression and 0.3350 of the raw size before, 7.4 to 9.7 s and
    /// 0.3336 with 2^19 hash entries, 2^17 chain entries and 2^5 searches (2^18 hash entries
    /// cost 0.007 of the ratio; a shorter chain table cost nothing).
    private static func parameters(dictionaryBytes: Int) -> ZSTD_compressionParameters {
        var parameters = ZSTD_getCParams(DocumentStoreWriter.compressionLevel, UInt64(DocumentStoreWriter.targetBlockBytes), dictionaryBytes)
        parameters.hashLog = min(parameters.hashLog, 19)
        parameters.chainLog = min(parameters.chainLog, 17)
        parameters.searchLog = max(parameters.searchLog, 5)
        return parameters
    }

    private func tables(for dictionary: [UInt8]) -> OpaquePointer? {
        if let prepared, prepared.dictionary == dictionary { return prepared.tables }
        if let prepared { ZSTD_freeCDict(prepared.tables) }
        let tables = dictionary.withUnsafeBytes {
            ZSTD_createCDict_advanced($0.baseAddress, $0.count, ZSTD_dlm_byCopy, ZSTD_dct_auto, Self.parameters(dictionaryBytes: $0.count), ZSTD_customMem())
        }
        prepared = tables.map { (dictionary, $0) }
        return tables
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
    /// The blocks' zstd dictionary (empty: none), checked when first used.
    let dictionary: UnsafeRawBufferPointer
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
        var header = ByteReader(body, file: file)
        let dictionaryLength = Int(try header.readUInt32())
        dictionary = try header.readBytes(dictionaryLength)
        guard header.offset <= blockTable else { throw KidxError.corruptIndex(file: file, reason: "dictionary runs into the block table") }
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

    /// Every block as stored (its length and zstd frame), checked, with its first document.
    func forEachCompressedBlock(_ body: (_ firstDoc: Int, UnsafeRawBufferPointer) throws -> Void) throws {
        if !dictionary.isEmpty { try mapped.check(4..<(4 + dictionary.count)) }
        for index in 0..<blockCount {
            let range = try storedRange(of: index)
            try body(block(index).firstDoc, UnsafeRawBufferPointer(rebasing: self.body[range]))
        }
    }

    /// The stored bytes of block `index`, checked.
    private func storedRange(of index: Int) throws -> Range<Int> {
        let start = block(index).offset
        let end = index + 1 < blockCount ? block(index + 1).offset : blockTable
        guard start >= 0, end <= blockTable, start <= end - 4 else { throw KidxError.corruptIndex(file: file, reason: "block \(index) has a bad offset") }
        try mapped.check(start..<end)
        return start..<end
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
        let range = try storedRange(of: index)
        var reader = ByteReader(body, offset: range.lowerBound, file: file)
        let length = Int(try reader.readUInt32())
        // Blocks hold 64 KiB of documents, or one larger document: a damaged length must not
        // allocate gigabytes.
        guard length <= Self.maximumBlockBytes else { throw KidxError.corruptIndex(file: file, reason: "block \(index) claims \(length) bytes") }
        let frame = try reader.readBytes(range.upperBound - reader.offset)
        guard ZSTD_getFrameContentSize(frame.baseAddress, frame.count) == UInt64(length) else {
            throw KidxError.corruptIndex(file: file, reason: "block \(index) length does not match its frame")
        }
        if !dictionary.isEmpty { try mapped.check(4..<(4 + dictionary.count)) }
        var plain = [UInt8](repeating: 0, count: length)
        let context = ZSTD_createDCtx()
        defer { ZSTD_freeDCtx(context) }
        let size = plain.withUnsafeMutableBytes {
            ZSTD_decompress_usingDict(context, $0.baseAddress, length, frame.baseAddress, frame.count, dictionary.baseAddress, dictionary.count)
        }
        guard ZSTD_isError(size) == 0, size == length else {
            throw KidxError.corruptIndex(file: file, reason: "block \(index) does not decompress")
        }
        return plain
    }
}
