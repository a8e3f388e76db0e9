import Foundation
import Testing
@testable import Kidx

@Suite("On-disk codecs round-trip")
struct CodecTests {
    @Test("variable-byte integers")
    func varints() throws {
        var writer = ByteWriter()
        let values: [UInt64] = [0, 1, 127, 128, 16_383, 16_384, UInt64(UInt32.max), UInt64.max]
        for value in values { writer.appendVarint(value) }
        let (decoded, atEnd, overrun) = try writer.bytes.withUnsafeBytes { raw -> ([UInt64], Bool, Bool) in
            var reader = ByteReader(raw, file: "test")
            let decoded = try values.map { _ in try reader.readVarint() }
            let atEnd = reader.isAtEnd
            let overrun = (try? reader.readVarint()) == nil
            return (decoded, atEnd, overrun)
        }
        #expect(decoded == values)
        #expect(atEnd && overrun)
    }

    @Test("bit packing, every width, in four lanes", arguments: 0...32)
    func bitPacking(width: Int) {
        var generator = SystemRandomNumberGenerator()
        let maximum: UInt32 = width == 0 ? 0 : (width == 32 ? .max : (1 << UInt32(width)) - 1)
        for pattern in 0..<3 {
            var values = (0..<BitPacking.blockSize).map { _ in UInt32.random(in: 0...maximum, using: &generator) }
            if pattern == 1 { values = values.map { _ in maximum } }  // every bit set: no lane may leak into another
            values[BitPacking.blockSize - 1] = maximum  // the last value of the last lane uses every bit
            var packed: [UInt8] = []
            values.withUnsafeBufferPointer {
                #expect(BitPacking.bitWidth($0) == width)
                BitPacking.packBlock($0, width: width, into: &packed)
            }
            #expect(packed.count == BitPacking.blockBytes(width: width))
            var output = [UInt32](repeating: 7, count: BitPacking.blockSize)
            packed.withUnsafeBytes { raw in
                output.withUnsafeMutableBufferPointer {
                    BitPacking.unpackBlock(raw.baseAddress ?? UnsafeRawPointer(bitPattern: 16)!, width: width, into: $0.baseAddress!)
                }
            }
            #expect(output == values, "pattern \(pattern)")
        }
    }

    @Test("patched blocks: outliers become exceptions, blocks shrink, damaged tokens and exceptions are refused")
    func patchedBlocks() {
        var generator = SystemRandomNumberGenerator()
        func small() -> [UInt32] { (0..<BitPacking.blockSize).map { _ in UInt32.random(in: 0...5, using: &generator) } }
        var blocks: [[UInt32]] = [
            Array(repeating: 0, count: BitPacking.blockSize),
            Array(repeating: .max, count: BitPacking.blockSize),
            (0..<BitPacking.blockSize).map { _ in UInt32.random(in: 0...UInt32.max, using: &generator) },
        ]
        // One to four outliers, at the first and last index too, up to every bit set.
        for outliers in 1...4 {
            var block = small()
            for (number, index) in [0, 127, 64, 3].prefix(outliers).enumerated() { block[index] = number == 0 ? .max : UInt32(1_000 << number) }
            blocks.append(block)
        }
        var all = small()
        all[17] = 1 << 31
        blocks.append(all)
        for values in blocks {
            var writer = ByteWriter()
            values.withUnsafeBufferPointer { BitPacking.appendPatched($0, to: &writer) }
            let width = values.withUnsafeBufferPointer { BitPacking.bitWidth($0) }
            // Never larger than packing every value at the block's full width, plus its token.
            #expect(writer.count <= 1 + BitPacking.blockBytes(width: width))
            var output = [UInt32](repeating: 7, count: BitPacking.blockSize)
            let (read, offset) = writer.bytes.withUnsafeBytes { raw in
                var offset = 0
                let read = output.withUnsafeMutableBufferPointer { BitPacking.readPatched(raw, &offset, into: $0.baseAddress!) }
                return (read, offset)
            }
            #expect(read && offset == writer.count)
            #expect(output == values)
        }
        // A block of small values and one large one keeps the large one out of the width.
        var outlier = small()
        outlier[40] = 1 << 20
        var writer = ByteWriter()
        outlier.withUnsafeBufferPointer { BitPacking.appendPatched($0, to: &writer) }
        #expect(writer.count < 1 + BitPacking.blockBytes(width: 21) / 4)
        // Damage: a width over 32, an exception index past the block, a cut-off block.
        var damaged = writer.bytes
        damaged[0] = 33
        var cutOff = writer.bytes
        cutOff.removeLast()
        var badIndex = writer.bytes
        badIndex[badIndex.count - 4] = 200  // the exception's index byte (its high bits take three)
        // Five outliers: counted in a byte after the token, which must say 3 to 15.
        var five = small()
        for index in [0, 9, 50, 100, 127] { five[index] = 1 << 20 }
        var fiveWriter = ByteWriter()
        five.withUnsafeBufferPointer { BitPacking.appendPatched($0, to: &fiveWriter) }
        #expect(fiveWriter.bytes[0] >> 6 == 3 && fiveWriter.bytes[1] == 5)
        var tooFew = fiveWriter.bytes, tooMany = fiveWriter.bytes
        tooFew[1] = 2
        tooMany[1] = UInt8(BitPacking.maximumExceptions + 1)
        for bytes in [damaged, cutOff, badIndex, tooFew, tooMany, []] {
            var output = [UInt32](repeating: 0, count: BitPacking.blockSize)
            let read = bytes.withUnsafeBytes { raw in
                var offset = 0
                return output.withUnsafeMutableBufferPointer { BitPacking.readPatched(raw, &offset, into: $0.baseAddress!) }
            }
            #expect(!read)
        }
    }

    @Test("patched runs shorter than a block: every length and width, outliers, a run at the buffer's very end, damage refused")
    func patchedRuns() {
        var generator = SystemRandomNumberGenerator()
        for count in [1, 2, 3, 4, 7, 8, 9, 63, 100, 127] {
            for width in [0, 1, 5, 8, 13, 17, 31, 32] {
                let maximum: UInt32 = width == 32 ? .max : (1 << UInt32(width)) - 1
                var values = (0..<count).map { _ in UInt32.random(in: 0...maximum, using: &generator) }
                values[count - 1] = maximum  // the last value uses every bit of its width
                if count > 4, width < 20 { values[count / 2] = 1 << 30 }  // an outlier, patched in
                var writer = ByteWriter()
                values.withUnsafeBufferPointer { BitPacking.appendPatched($0, to: &writer) }
                let fullWidth = values.withUnsafeBufferPointer { BitPacking.bitWidth($0) }
                #expect(writer.count <= 1 + BitPacking.packedBytes(count: count, width: fullWidth))
                // Read from a buffer that ends with the run: no load may pass its last byte.
                let exact = UnsafeMutableRawBufferPointer.allocate(byteCount: writer.count, alignment: 1)
                defer { exact.deallocate() }
                exact.copyBytes(from: writer.bytes)
                var output = [UInt32](repeating: 7, count: count)
                var offset = 0
                let read = output.withUnsafeMutableBufferPointer { BitPacking.readPatched(UnsafeRawBufferPointer(exact), &offset, count: count, into: $0.baseAddress!) }
                #expect(read && offset == writer.count, "count \(count), width \(width)")
                #expect(output == values, "count \(count), width \(width)")
            }
        }
        // An exception index past the run's own length, and a run cut off, are refused.
        var values = [UInt32](repeating: 1, count: 10)
        values[9] = 1 << 20
        var writer = ByteWriter()
        values.withUnsafeBufferPointer { BitPacking.appendPatched($0, to: &writer) }
        var badIndex = writer.bytes
        badIndex[1 + BitPacking.packedBytes(count: 10, width: Int(writer.bytes[0] & 0x3F))] = 10
        var cutOff = writer.bytes
        cutOff.removeLast()
        for bytes in [badIndex, cutOff] {
            var output = [UInt32](repeating: 0, count: 10)
            let read = bytes.withUnsafeBytes { raw in
                var offset = 0
                return output.withUnsafeMutableBufferPointer { BitPacking.readPatched(raw, &offset, count: 10, into: $0.baseAddress!) }
            }
            #expect(!read)
        }
    }

    @Test("skip layouts: each number as wide as its largest value needs, told by a byte that reads back as itself")
    func skipLayouts() {
        let narrow = SkipLayout(lastDoc: 28_040, end: 200, positionsEnd: nil, maxFreq: 255)
        #expect(narrow == SkipLayout(byte: narrow.byte))
        #expect((narrow.documentBytes, narrow.endBytes, narrow.positionBytes, narrow.frequencyBytes) == (2, 1, 0, 1))
        #expect(narrow.entrySize == 5 && !narrow.hasPositionEnds)
        let wide = SkipLayout(lastDoc: UInt32(Int32.max), end: UInt32.max, positionsEnd: 1 << 24, maxFreq: 256)
        #expect((wide.documentBytes, wide.endBytes, wide.positionBytes, wide.frequencyBytes) == (4, 4, 4, 2))
        #expect(wide == SkipLayout(byte: wide.byte) && wide.entrySize == 15)
        // Every byte a layout writes reads back as that layout; a byte with more than four
        // position bytes is refused.
        var written = 0
        for byte in UInt8.min...UInt8.max {
            guard let layout = SkipLayout(byte: byte) else {
                #expect(byte >> 4 & 7 > 4)
                continue
            }
            #expect(layout.byte == byte)
            written += 1
        }
        #expect(written == 4 * 4 * 5 * 2)
    }

    /// Writes posting lists, maps them back, and compares documents, frequencies and positions.
    private func roundTrip(_ lists: [[(doc: Int32, positions: [Int32])]]) throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let postingsFile = try IndexFileWriter(path: folder + "/p", kind: .postings)
        let positionsFile = try IndexFileWriter(path: folder + "/q", kind: .positions)
        var writer = PostingsWriter()
        var addresses: [PostingsWriter.ListAddress] = []
        for list in lists {
            addresses.append(try writer.write(
                docs: list.map(\.doc)[...], freqs: list.map { UInt32($0.positions.count) }[...],
                positions: list.flatMap(\.positions)[...], norms: { UInt8(truncatingIfNeeded: $0) },
                postings: postingsFile, positionsFile: positionsFile))
        }
        try postingsFile.finish()
        try positionsFile.finish()
        let postings = try MappedIndexFile(path: folder + "/p", kind: .postings)
        let positions = try MappedIndexFile(path: folder + "/q", kind: .positions)
        try postings.verifyChecksum()
        for (list, address) in zip(lists, addresses) {
            var cursor = try PostingsCursor(address.termInfo, postings: postings, positions: positions)
            var buffer: [Int32] = []
            for (index, expected) in list.enumerated() {
                #expect(try cursor.next())
                #expect(cursor.doc == expected.doc)
                #expect(Int(cursor.freq) == expected.positions.count)
                // Every third document's positions are left unread: the next read skips them.
                guard index % 3 != 1 else { continue }
                try cursor.positions(into: &buffer)
                #expect(buffer == expected.positions)
            }
            #expect(try cursor.next() == false)
            #expect(cursor.doc == PostingsCursor.exhausted)
            // Read without positions, as an exact word reads its stem's list when it shares it;
            // block summaries bound every block's frequencies (65,535 and more saturate).
            var shared = try PostingsCursor(address.termInfo.withoutPositions, postings: postings, positions: positions)
            #expect(shared.hasPositions == false)
            for (index, expected) in list.enumerated() {
                #expect(try shared.next())
                #expect(shared.doc == expected.doc)
                #expect(Int(shared.freq) == expected.positions.count)
                #expect(shared.skips.summary(ofBlock: index / BitPacking.blockSize).maxFreq >= shared.freq)
            }
            #expect(try shared.next() == false)
        }
    }

    private func randomList(count: Int, maxGap: Int32, maxFreq: Int, maxPositionGap: Int32 = 50) -> [(doc: Int32, positions: [Int32])] {
        var doc: Int32 = -1
        return (0..<count).map { _ in
            doc += Int32.random(in: 1...maxGap)
            var position: Int32 = -1
            let positions = (0..<Int.random(in: 1...maxFreq)).map { _ in position += Int32.random(in: 1...maxPositionGap); return position }
            return (doc, positions)
        }
    }

    @Test("posting lists: random, empty tail, one document, block edges, maximum ids, equal frequencies, unread positions")
    func postings() throws {
        var lists: [[(doc: Int32, positions: [Int32])]] = []
        // Tails of every kind: variable-byte (1 to 3 documents), packed (4 on), alone or after blocks.
        for count in [1, 2, 3, 4, 5, 127, 128, 129, 131, 132, 256, 1000] { lists.append(randomList(count: count, maxGap: 40, maxFreq: 6)) }
        // Many positions of one to four bytes each: skipping unread ones crosses words of eight bytes.
        lists.append(randomList(count: 300, maxGap: 5, maxFreq: 40, maxPositionGap: 40_000))
        lists.append([(0, [0])])
        lists.append([(Int32.max - 1, [0, Int32.max - 1])])
        // A packed tail up to the largest id and position, its first gap the widest there is.
        lists.append([0, 1, Int32.max - 2, Int32.max - 1].map { ($0, [0, Int32.max - 1]) })
        // A packed tail with one frequency far above the others (patched in) and many positions.
        lists.append((0..<40).map { doc -> (doc: Int32, positions: [Int32]) in (Int32(doc) * 3, doc == 7 ? Array(0..<5_000) : [Int32(doc)]) })
        lists.append((0..<300).map { (Int32($0), [Int32(3)]) })   // dense, every frequency 1
        lists.append((0..<130).map { (Int32($0) * 1_000_000, [1, 2, 3]) })  // wide gaps, equal frequencies
        // A block whose largest frequency does not fit a skip entry's 16 bits.
        let manyPositions: [Int32] = Array(0..<70_000)
        lists.append((0..<130).map { doc -> (doc: Int32, positions: [Int32]) in (Int32(doc), doc == 5 ? manyPositions : [7]) })
        // A full block's positions packed at 31 bits: every other gap is the largest there is.
        lists.append((0..<200).map { (Int32($0), [0, Int32.max - 1]) })
        try roundTrip(lists)
    }

    @Test("lists encoded on several threads in batches are written as one thread writes them, and an error stops the run")
    func listEncodingOnThreads() throws {
        // Batches end by count and by documents, and a few long lists share them out unevenly.
        let limit = ListEncoding.BatchLimit(documents: 5000, lists: 400)
        var lists: [[(doc: Int32, positions: [Int32])]] = (0..<3000).map { _ in randomList(count: Int.random(in: 1...20), maxGap: 500, maxFreq: 4) }
        for index in stride(from: 0, to: lists.count, by: 250) { lists[index] = randomList(count: 3000, maxGap: 3, maxFreq: 2) }
        func input(_ list: [(doc: Int32, positions: [Int32])]) -> (docs: [Int32], freqs: [UInt32], positions: [Int32]) {
            (list.map(\.doc), list.map { UInt32($0.positions.count) }, list.flatMap(\.positions))
        }
        func norms(_ doc: Int32) -> UInt8 { UInt8(truncatingIfNeeded: doc) }
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var written: [[UInt8]] = []
        var addresses: [[Int]] = []
        // 0: each list written as it is encoded, without `ListEncoding`.
        for threads in [0, 1, 2, 3] {
            let postings = try IndexFileWriter(path: folder + "/p\(threads)", kind: .postings)
            let positions = try IndexFileWriter(path: folder + "/q\(threads)", kind: .positions)
            var offsets: [Int] = []
            if threads == 0 {
                var writer = PostingsWriter()
                for list in lists {
                    let (docs, freqs, flat) = input(list)
                    // Every third list without positions, as stop words' and parts' lists are.
                    let address = try writer.write(docs: docs[...], freqs: freqs[...], positions: flat[...], norms: norms,
                                                   withPositions: (offsets.count / 3) % 3 != 0, postings: postings, positionsFile: positions)
                    offsets += [address.postingsOffset, address.positionsOffset, address.docFreq]
                }
            } else {
                try ListEncoding.run(threads: threads, count: lists.count, documents: { lists[$0].count }, limit: limit, encode: { item, _, writer in
                    let (docs, freqs, flat) = input(lists[item])
                    return try writer.encode(docs: docs[...], freqs: freqs[...], positions: flat[...], norms: norms, withPositions: item % 3 != 0)
                }, write: { item, list, writer in
                    #expect(offsets.count == item * 3)
                    let address = try writer.append(list!, postings: postings, positionsFile: positions)
                    offsets += [address.postingsOffset, address.positionsOffset, address.docFreq]
                })
            }
            try postings.finish()
            try positions.finish()
            addresses.append(offsets)
            written.append(try [folder + "/p\(threads)", folder + "/q\(threads)"].flatMap { Array(try Data(contentsOf: URL(fileURLWithPath: $0))) })
        }
        for variant in 1..<addresses.count {
            #expect(addresses[variant] == addresses[0])
            #expect(written[variant] == written[0])
        }

        // A failing item stops the run before anything after its batch is written.
        struct Failure: Error {}
        var lastWritten = -1
        #expect(throws: Failure.self) {
            try ListEncoding.run(threads: 2, count: lists.count, documents: { lists[$0].count }, limit: limit, encode: { item, _, writer in
                if item == 2000 { throw Failure() }
                let (docs, freqs, flat) = input(lists[item])
                return try writer.encode(docs: docs[...], freqs: freqs[...], positions: flat[...], norms: norms, withPositions: true)
            }, write: { item, _, _ in lastWritten = item })
        }
        #expect(lastWritten >= 0 && lastWritten < 2000)

        // A batch that cannot be gathered stops the run too, once the batches before it are written.
        var batchesWritten = Set<Int>()
        var firstBatches = [Int](repeating: 0, count: ListEncoding.slots)
        var gathered = 0
        #expect(throws: Failure.self) {
            try ListEncoding.run(threads: 2, nextBatch: { slot in
                if gathered == 5 { throw Failure() }
                firstBatches[slot] = gathered
                gathered += 1
                return 10
            }, encode: { _, _, _, writer in
                try writer.encode(docs: [1, 2][...], freqs: [1, 1][...], positions: [0, 0][...], norms: norms, withPositions: true)
            }, write: { slot, _, _, _ in batchesWritten.insert(firstBatches[slot]) })
        }
        #expect(!batchesWritten.isEmpty && batchesWritten.isSubset(of: Set(0..<5)))
    }

    @Test("advance(to:) skips blocks and lands on the first document at or after the target; positions read after it, skipped, or read twice")
    func advance() throws {
        let list = randomList(count: 1500, maxGap: 20, maxFreq: 3)
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let postingsFile = try IndexFileWriter(path: folder + "/p", kind: .postings)
        let positionsFile = try IndexFileWriter(path: folder + "/q", kind: .positions)
        var writer = PostingsWriter()
        let address = try writer.write(docs: list.map(\.doc)[...], freqs: list.map { UInt32($0.positions.count) }[...],
                                       positions: list.flatMap(\.positions)[...], norms: { _ in 0 },
                                       postings: postingsFile, positionsFile: positionsFile)
        try postingsFile.finish()
        try positionsFile.finish()
        let postings = try MappedIndexFile(path: folder + "/p", kind: .postings)
        let positions = try MappedIndexFile(path: folder + "/q", kind: .positions)
        var cursor = try PostingsCursor(address.termInfo, postings: postings, positions: positions)
        var target: Int32 = 0
        var buffer: [Int32] = []
        while let expected = list.first(where: { $0.doc >= target }) {
            #expect(try cursor.advance(to: target))
            #expect(cursor.doc == expected.doc)
            #expect(Int(cursor.freq) == expected.positions.count)
            // Positions left unread for some documents (the next read skips them), read twice for others.
            let reads = Int.random(in: 0...2)
            for _ in 0..<reads {
                try cursor.positions(into: &buffer)
                #expect(buffer == expected.positions)
            }
            // Short moves stay inside a block, long ones cross blocks.
            target = expected.doc + (Bool.random() ? Int32.random(in: 1...30) : Int32.random(in: 1...400))
        }
        #expect(try cursor.advance(to: target) == false)
    }

    @Test("term dictionary: lookups of present and absent keys, long shared prefixes and suffixes, prefix scans")
    func termDictionary() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var words = Set((0..<2000).map { _ in String((0..<Int.random(in: 1...12)).map { _ in "abcdeäöüß".randomElement()! }) })
        // Shared prefixes and suffixes of 15 bytes and more take a longer entry.
        let ship = "donaudampfschifffahrtsgesellschaft"
        words.formUnion([ship, ship + "en", ship + "skapitän", ship + "skapitänsmützenabzeichen", String(ship.prefix(15))])
        let keys = words.map { Field.body.key($0) }.sorted { $0.lexicographicallyPrecedes($1) }
        let file = try IndexFileWriter(path: folder + "/t", kind: .terms)
        let writer = TermDictionaryWriter(file: file)
        // Every third list without positions: the flag shares a number with the frequency.
        func info(_ index: Int) -> TermInfo {
            index % 3 == 0 ? TermInfo(docFreq: index + 1, postingsOffset: index * 10, positionsOffset: 0, hasPositions: false)
                : TermInfo(docFreq: index + 1, postingsOffset: index * 10, positionsOffset: index * 7, hasPositions: true)
        }
        for (index, key) in keys.enumerated() { try writer.add(key: key, info: info(index)) }
        try writer.finish()
        try file.finish()
        let dictionary = try TermDictionary(file: MappedIndexFile(path: folder + "/t", kind: .terms))
        #expect(dictionary.termCount == keys.count)
        for (index, key) in keys.enumerated() {
            #expect(try dictionary.lookup(key) == info(index))
        }
        #expect(try dictionary.lookup(Field.body.key("zzz")) == nil)
        #expect(try dictionary.lookup(Field.title.key("a")) == nil)
        // Absent keys next to present ones: a key's prefixes and extensions, a changed last
        // byte, and random words (lookups compare keys while decoding shared prefixes).
        let present = Set(keys)
        var probes = (0..<2000).map { _ in Field.body.key(String((0..<Int.random(in: 1...12)).map { _ in "abcdeäöüß".randomElement()! })) }
        for key in keys.prefix(300) {
            probes += [Array(key.dropLast()), key + [0x61], key + [0xFF], Array(key.dropLast()) + [key.last! &+ 1], Array(key.dropLast()) + [key.last! &- 1]]
        }
        for probe in probes {
            let found = try dictionary.lookup(probe)
            #expect((found != nil) == present.contains(probe), "\(probe)")
            if found != nil { #expect(found == info(keys.firstIndex(of: probe)!)) }
        }
        #expect(try dictionary.lookup([]) == nil)
        var prefixed: [[UInt8]] = []
        try dictionary.forEach(withPrefix: Field.body.key("ab")) { key, _ in prefixed.append(Array(key)); return true }
        #expect(prefixed == keys.filter { $0.starts(with: Field.body.key("ab")) })
    }

    @Test("term dictionary: an exact word spelled as its stem and sharing its list is implied, yet looked up, listed and counted")
    func impliedExactWords() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let stems = (0..<500).map { "wort\($0)" }.sorted()
        func stemInfo(_ index: Int) -> TermInfo {
            TermInfo(docFreq: index + 1, postingsOffset: index * 100, positionsOffset: index * 40, hasPositions: true)
        }
        // Per stem: an exact word spelled as it that shares its list (implied), one that does not
        // (another list), or one spelled otherwise that shares it (stored); some stems have none.
        var keys: [([UInt8], TermInfo)] = []
        var implied = Set<[UInt8]>()
        for field in Field.allCases {
            for (index, stem) in stems.enumerated() { keys.append((field.key(stem), stemInfo(index))) }
            for (index, stem) in stems.enumerated() {
                switch index % 4 {
                case 0:
                    keys.append((field.exactKey(stem), stemInfo(index).withoutPositions))
                    implied.insert(field.exactKey(stem))
                case 1: keys.append((field.exactKey(stem), TermInfo(docFreq: 1, postingsOffset: 90_000 + index, positionsOffset: 0, hasPositions: false)))
                case 2: keys.append((field.exactKey(stem + "e"), stemInfo(index).withoutPositions))
                default: break
                }
            }
        }
        keys.sort { ByteOrder.precedes($0.0, $1.0) }
        let file = try IndexFileWriter(path: folder + "/t", kind: .terms)
        let writer = TermDictionaryWriter(file: file)
        for (key, info) in keys { try writer.add(key: key, info: info) }
        try writer.finish()
        try file.finish()
        let dictionary = try TermDictionary(file: MappedIndexFile(path: folder + "/t", kind: .terms))
        #expect(dictionary.termCount == keys.count)
        #expect(implied.count == 250)
        for (key, info) in keys { #expect(try dictionary.lookup(key) == info, "\(key)") }
        // A stem whose exact word is absent implies nothing.
        #expect(try dictionary.lookup(Field.body.exactKey(stems[3])) == nil)
        var listed: [([UInt8], TermInfo)] = []
        try dictionary.forEachEntry { listed.append(($0, $1)) }
        #expect(listed.map(\.0) == keys.map(\.0))
        #expect(listed.map(\.1) == keys.map(\.1))
        // Prefix scans of an exact-word space list implied words too, from any block on.
        for prefix in ["wort1", "wort23", "wort499", "wort"] {
            var found: [[UInt8]] = []
            try dictionary.forEach(withPrefix: Field.body.exactKey(prefix)) { key, _ in found.append(Array(key)); return true }
            #expect(found == keys.map(\.0).filter { $0.starts(with: Field.body.exactKey(prefix)) }, "\(prefix)")
        }
        // Smaller than with every exact word stored.
        let stored = try IndexFileWriter(path: folder + "/u", kind: .terms)
        let plain = TermDictionaryWriter(file: stored)
        for (key, info) in keys where !implied.contains(key) { try plain.add(key: key, info: info) }
        try plain.finish()
        try stored.finish()
        let sizes = try [folder + "/t", folder + "/u"].map { try FileManager.default.attributesOfItem(atPath: $0)[.size] as! Int }
        #expect(sizes[0] < sizes[1] + 250 * 4, "implied entries take no more than the bits for them: \(sizes)")
    }

    /// `documents` and then the documents of `appended` stores written to a store file at `path`
    /// and opened again.
    private static func writeStore(_ documents: [Document], appending appended: [DocumentStore] = [], at path: String,
                                   dictionary: DocumentStoreWriter.DictionarySource = .trained) throws -> DocumentStore {
        let file = try IndexFileWriter(path: path, kind: .store)
        let writer = try DocumentStoreWriter(file: file, dictionary: dictionary)
        for document in documents { try writer.add(document) }
        for store in appended { try writer.append(store) }
        try writer.finish()
        try file.finish()
        return try DocumentStore(file: MappedIndexFile(path: path, kind: .store))
    }

    @Test("document store: real articles past the dictionary's training text come back whole, and the dictionary pays",
          .enabled(if: TestSupport.sharedIsAvailable, TestSupport.sharedMissing))
    func documentStoreDictionary() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // 2,000 news articles: more text than the dictionary is trained on, so blocks are
        // compressed both from the held training text and after it.
        let documents = try #require(TestSupport.newsDocuments)
        let raw = documents.reduce(0) { $0 + $1.title.utf8.count + $1.body.utf8.count }
        #expect(raw > DocumentStoreWriter.trainingBytes)
        let store = try Self.writeStore(documents, at: folder + "/s")
        #expect(store.documentCount == documents.count)
        var read = 0
        try store.forEach { doc, document in
            #expect(document == documents[doc])
            read += 1
        }
        #expect(read == documents.count)
        for index in stride(from: 0, to: documents.count, by: 97) { #expect(try store.document(index) == documents[index]) }
        let size = try #require(try FileManager.default.attributesOfItem(atPath: folder + "/s")[.size] as? Int)
        #expect(Double(size) < 0.4 * Double(raw), "store \(size) bytes for \(raw) bytes of text")
    }

    @Test("document store: stores appended to one keep every document, their blocks copied when they share its dictionary",
          .enabled(if: TestSupport.sharedIsAvailable, TestSupport.sharedMissing))
    func documentStoreAppend() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let documents = try #require(TestSupport.newsDocuments)
        // A part that trains a dictionary, a later part given it, and a small one with none.
        let first = try Self.writeStore(Array(documents[..<1_600]), at: folder + "/a")
        let dictionary = Array(first.dictionary)
        #expect(!dictionary.isEmpty)
        let second = try Self.writeStore(Array(documents[1_600..<1_900]), at: folder + "/b", dictionary: .given(dictionary))
        let third = try Self.writeStore(Array(documents[1_900...]), at: folder + "/c")
        #expect(Array(second.dictionary) == dictionary && third.dictionary.isEmpty)
        let merged = try Self.writeStore([], appending: [first, second, third], at: folder + "/m", dictionary: .given(dictionary))
        var read: [Document] = []
        try merged.forEach { _, document in read.append(document) }
        #expect(read == documents)
        for index in stride(from: 0, to: documents.count, by: 89) { #expect(try merged.document(index) == documents[index]) }
        // The first two parts' blocks are copied, the third's compressed again with the dictionary.
        func blocks(_ store: DocumentStore) throws -> Set<[UInt8]> {
            var blocks = Set<[UInt8]>()
            try store.forEachCompressedBlock { _, bytes in blocks.insert(Array(bytes)) }
            return blocks
        }
        let mergedBlocks = try blocks(merged)
        #expect(try blocks(first).union(blocks(second)).isSubset(of: mergedBlocks))
        #expect(try blocks(third).isDisjoint(with: mergedBlocks))
    }

    @Test("document store: compressed on the build's background thread, two stores sharing it are byte for byte the stores written in place, and their spools are gone",
          .enabled(if: TestSupport.sharedIsAvailable, TestSupport.sharedMissing))
    func documentStoreInBackground() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let documents = try #require(TestSupport.newsDocuments)
        // A part that trains its dictionary (more text than the training takes) and one given it.
        let parts = [Array(documents[..<1_600]), Array(documents[1_600...])]
        let first = try Self.writeStore(parts[0], at: folder + "/a")
        let dictionary = Array(first.dictionary)
        _ = try Self.writeStore(parts[1], at: folder + "/b", dictionary: .given(dictionary))
        let compression = BackgroundCompression()
        defer { compression.stop() }
        // Both stores take documents before either is finished, as the parts of a build do.
        var writers: [(DocumentStoreWriter, IndexFileWriter)] = []
        for (name, source) in [("a", DocumentStoreWriter.DictionarySource.trained), ("b", .given(dictionary))] {
            let file = try IndexFileWriter(path: folder + "/bg-" + name, kind: .store)
            writers.append((try DocumentStoreWriter(file: file, dictionary: source, background: (compression, spool: folder + "/bg-\(name).spool")), file))
        }
        for (writer, part) in zip(writers, parts) { for document in part { try writer.0.add(document) } }
        #expect(FileManager.default.fileExists(atPath: folder + "/bg-a.spool"))
        for (writer, file) in writers.reversed() {
            try writer.finish()
            try file.finish()
        }
        writers = []
        for name in ["a", "b"] {
            #expect(FileManager.default.contents(atPath: folder + "/bg-" + name) == FileManager.default.contents(atPath: folder + "/" + name))
            #expect(!FileManager.default.fileExists(atPath: folder + "/bg-\(name).spool"))
        }
    }

    @Test("document store: a store dropped unfinished stops its background compression, and a stopped thread takes no more documents",
          .enabled(if: TestSupport.sharedIsAvailable, TestSupport.sharedMissing))
    func documentStoreInBackgroundStopped() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let documents = try #require(TestSupport.newsDocuments)
        let compression = BackgroundCompression()
        do {
            let writer = try DocumentStoreWriter(file: IndexFileWriter(path: folder + "/a", kind: .store), background: (compression, spool: folder + "/a.spool"))
            for document in documents { try writer.add(document) }
        }  // dropped: its blocks not yet written are skipped
        #expect(!FileManager.default.fileExists(atPath: folder + "/a.spool"))
        compression.stop()
        let writer = try DocumentStoreWriter(file: IndexFileWriter(path: folder + "/b", kind: .store), background: (compression, spool: folder + "/b.spool"))
        #expect(throws: KidxError.self) {
            for document in documents { try writer.add(document) }
            try writer.finish()
        }
    }

    @Test("document store: every document comes back, across blocks")
    func documentStore() throws {
        let folder = try TestSupport.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let documents = (0..<500).map { index in
            Document(id: "doc-\(index)", title: "Titel \(index) über Straßen",
                     body: String(repeating: "Sanktionen gegen Nordkorea. ", count: index % 40 + 1),
                     date: index % 2 == 0 ? "2024-03-\(index % 28 + 1)" : nil, url: nil, source: index % 3 == 0 ? "zeit.de" : nil)
        }
        let store = try Self.writeStore(documents, at: folder + "/s")
        #expect(store.documentCount == documents.count)
        for (index, document) in documents.enumerated() { #expect(try store.document(index) == document) }
        #expect(throws: KidxError.self) { try store.document(documents.count) }
    }

    @Test("field norms: exact for short fields, monotone, within 5 % for long ones")
    func fieldNorms() {
        for length in 0..<24 { #expect(FieldNorms.lengths[Int(FieldNorms.encode(length))] == length) }
        var previous = 0
        for length in stride(from: 24, to: 200_000, by: 7) {
            let decoded = FieldNorms.lengths[Int(FieldNorms.encode(length))]
            #expect(decoded <= length && Double(decoded) >= Double(length) * 0.95)
            #expect(decoded >= previous)
            previous = decoded
        }
    }

    @Test("word interner: dense stable ids, words come back byte for byte, absent words are not found, ids in the words' byte order")
    func wordInterner() {
        var interner = WordInterner()
        var expected: [String: Int] = [:]
        var generator = SystemRandomNumberGenerator()
        // Enough words to grow the table several times, with umlauts, ß and the empty word.
        // Many share their first eight bytes or more, which the order's first sort cannot tell apart.
        let tails = (0..<20_000).map { _ in String((0..<Int.random(in: 1...14, using: &generator)).map { _ in "aeiounrstäöüß".randomElement(using: &generator)! }) }
        let words = [""] + tails + tails.prefix(3_000).flatMap { ["bundesgesundheits" + $0, "bundesge" + $0, "bundes" + $0] }
        for word in words {
            var bytes = word
            let (id, isNew) = bytes.withUTF8 { interner.intern($0) }
            if let known = expected[word] {
                #expect(id == known && !isNew)
            } else {
                #expect(id == expected.count && isNew)
                expected[word] = id
            }
        }
        #expect(interner.count == expected.count)
        for (word, id) in expected {
            #expect(interner.word(id) == word)
            #expect(interner.id(of: word) == id)
        }
        #expect(interner.id(of: "xyzzy-nicht-da") == nil)
        // Numbers in the words' byte order, as the generic comparison of their bytes sorts them.
        #expect(interner.idsInByteOrder().map(interner.word) == expected.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
    }

    @Test("radix sort: keys ascending with their values, equal keys in their first order (empty, one, repeated and extreme keys)")
    func radixSort() {
        var generator = SystemRandomNumberGenerator()
        for count in [0, 1, 2, 255, 256, 257, 5_000] {
            // Keys from a few values (many equal), small ones, and any 64 bits.
            var keys = (0..<count).map { index -> UInt64 in
                switch index % 3 {
                case 0: return [0, 1, .max, 1 << 63, 0xFF00].randomElement(using: &generator)!
                case 1: return UInt64.random(in: 0...300, using: &generator)
                default: return UInt64.random(in: 0...UInt64.max, using: &generator)
                }
            }
            var values = (0..<Int32(count)).map { $0 }
            let expected = zip(keys, values).sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
            WordInterner.radixSort(&keys, carrying: &values)
            #expect(keys == expected.map(\.0))
            #expect(values == expected.map(\.1))
        }
    }

    @Test("word hash: a word's last bytes, read in a few loads, count as read one by one (lengths 0 to 40, at every alignment)")
    func wordHashTail() {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<64).map { _ in UInt8.random(in: 0...255, using: &generator) }
        // The reference: eight bytes at a time, the rest a byte at a time, then the same mix.
        func reference(_ word: ArraySlice<UInt8>) -> UInt64 {
            var hash: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(word.count)
            var chunks = word[...]
            while chunks.count >= 8 {
                let value = chunks.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << UInt64(8 * $1.offset) }
                hash = (hash ^ value) &* 0xBF58_476D_1CE4_E5B9
                hash ^= hash >> 31
                chunks = chunks.dropFirst(8)
            }
            if !chunks.isEmpty {
                let rest = chunks.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << UInt64(8 * $1.offset) }
                hash = (hash ^ rest) &* 0xBF58_476D_1CE4_E5B9
            }
            hash ^= hash >> 30
            hash &*= 0xBF58_476D_1CE4_E5B9
            hash ^= hash >> 27
            hash &*= 0x94D0_49BB_1331_11EB
            return hash ^ (hash >> 31)
        }
        bytes.withUnsafeBufferPointer { buffer in
            for start in 0..<8 {
                for length in 0...40 {
                    let word = UnsafeBufferPointer(rebasing: buffer[start..<(start + length)])
                    #expect(WordInterner.hash(word) == reference(bytes[start..<(start + length)]), "\(length) bytes from \(start)")
                }
            }
        }
    }

    @Test("lexicon table: every word added is found with its evidence, no word left out is, at any size")
    func lexiconTable() {
        var generator = SystemRandomNumberGenerator()
        let letters = Array("aeiounrstäöüß")
        // Sized below, at and above the words added: the filter may only say "maybe" too often.
        for (words, capacity) in [(0, 0), (1, 1), (5_000, 100), (20_000, 20_000)] {
            var added: [String: WordEvidence] = [:]
            while added.count < words {
                let word = String((0..<Int.random(in: 1...20, using: &generator)).map { _ in letters.randomElement(using: &generator)! })
                added[word] = WordEvidence(frequency: Int.random(in: 0...1_000, using: &generator), known: Bool.random(using: &generator))
            }
            var table = LexiconTable(capacity: capacity)
            for (word, evidence) in added {
                var bytes = word
                bytes.withUTF8 { table.add($0, evidence) }
            }
            for (word, evidence) in added {
                var bytes = word
                #expect(bytes.withUTF8 { table.evidence($0) } == evidence)
            }
            var absent = 0
            while absent < 5_000 {
                var word = String((0..<Int.random(in: 0...21, using: &generator)).map { _ in letters.randomElement(using: &generator)! })
                guard added[word] == nil else { continue }
                #expect(word.withUTF8 { table.evidence($0) } == nil)
                absent += 1
            }
        }
    }

    @Test("a term's postings from its words' lists: none, one, many, shared documents and places, maximum ids; one union reused for all")
    func postingsUnion() {
        var generator = SystemRandomNumberGenerator()
        func randomList(documents: Int, spread: Int32) -> [(doc: Int32, position: Int32)] {
            var uses: [(doc: Int32, position: Int32)] = []
            var doc: Int32 = 0
            for _ in 0..<documents {
                doc += Int32.random(in: 0...spread, using: &generator)
                var position = Int32.random(in: 0...3, using: &generator)
                for _ in 0..<Int.random(in: 1...4, using: &generator) {
                    uses.append((doc, position))
                    position += Int32.random(in: 1...3, using: &generator)
                }
                doc += 1
            }
            return uses
        }
        var cases: [[[(doc: Int32, position: Int32)]]] = [[], [[]], [[(0, 0)]], [[(0, 0)], [(0, 0)]], [[(Int32.max, 5)], [(Int32.max, 2), (Int32.max, 5)], [(0, 1)]]]
        for _ in 0..<60 {
            // Few documents over a narrow range share many documents and places; wide ranges few.
            let spread = Int32([1, 10, 10_000].randomElement(using: &generator)!)
            cases.append((0..<Int.random(in: 1...40, using: &generator)).map { _ in randomList(documents: Int.random(in: 0...300, using: &generator), spread: spread) })
        }
        var union = FieldPostings.Union()
        for listUses in cases {
            let lists = listUses.map { uses in
                var list = FieldPostings.List()
                for (doc, position) in uses { _ = list.add(doc: doc, position: position) }
                return list
            }
            // All lists, and some picked by number (as a stem's forms are among a field's words).
            let picked = lists.indices.filter { _ in Bool.random(using: &generator) }.map { Int32($0) }
            for numbers in [lists.indices.map { Int32($0) }, picked] {
                // The reference: every (document, place) of every list, once, in order.
                var places: [Int32: Set<Int32>] = [:]
                for number in numbers { for (doc, position) in listUses[Int(number)] { places[doc, default: []].insert(position) } }
                let docs = places.keys.sorted()
                union.form(count: numbers.count) { lists[Int(numbers[$0])] }
                #expect(union.postings.docs == docs)
                #expect(union.postings.freqs == docs.map { UInt32(places[$0]!.count) })
                #expect(union.postings.positions == docs.flatMap { places[$0]!.sorted() })
            }
        }
    }

    @Test("in-memory postings: random lists, one use, maximum ids and gaps, dropped repeats; a spill reads back and a damaged one is refused")
    func inMemoryPostings() throws {
        var generator = SystemRandomNumberGenerator()
        // Uses in document order; positions random within a document, repeats included (dropped).
        var cases: [[(doc: Int32, position: Int32)]] = [[(0, 0)], [(Int32.max, Int32.max)], [(0, 0), (Int32.max, 0), (Int32.max, Int32.max)]]
        for _ in 0..<50 {
            var uses: [(doc: Int32, position: Int32)] = []
            var doc = Int32.random(in: 0...5, using: &generator)
            for _ in 0..<Int.random(in: 1...400, using: &generator) {
                if Bool.random(using: &generator) { doc += Int32.random(in: 1...(Bool.random(using: &generator) ? 3 : 100_000), using: &generator) }
                uses.append((doc, Int32.random(in: 0...2_000, using: &generator)))
            }
            cases.append(uses)
        }
        for uses in cases {
            var list = FieldPostings.List()
            var expected = FieldPostings.Postings()
            for (doc, position) in uses {
                let kept = expected.docs.last != doc || position > expected.positions.last!
                #expect((list.add(doc: doc, position: position) > 0) == kept)
                guard kept else { continue }
                if expected.docs.last != doc {
                    expected.docs.append(doc)
                    expected.freqs.append(0)
                }
                expected.freqs[expected.freqs.count - 1] += 1
                expected.positions.append(position)
            }
            var union = FieldPostings.Union()
            union.form(count: 1) { _ in list }
            let decoded = union.postings
            #expect(decoded.docs == expected.docs && decoded.freqs == expected.freqs && decoded.positions == expected.positions)
            #expect(Int(list.documentCount) == expected.docs.count && Int(list.positionCount) == expected.positions.count)
            var spill = ByteWriter()
            list.spill(to: &spill)
            let back = try spill.bytes.withUnsafeBytes { raw in
                var reader = ByteReader(raw, file: "spill")
                return try FieldPostings.List(spilled: &reader)
            }
            union.form(count: 1) { _ in back }
            #expect(union.postings.docs == expected.docs && union.postings.positions == expected.positions)
            // Adding goes on where the spilled list stopped.
            var continued = back
            #expect(continued.add(doc: expected.docs.last!, position: expected.positions.last!) == 0)
        }
        // Damaged streams: cut off in a value, a position before any document, a document without a position.
        for stream: [UInt8] in [[0x03, 0x82], [0x02], [0x03, 0x03, 0x02], [0x03]] {
            var spill = ByteWriter()
            spill.appendVarint(stream.count)
            spill.append(contentsOf: stream)
            #expect(throws: KidxError.self) {
                try spill.bytes.withUnsafeBytes { raw in
                    var reader = ByteReader(raw, file: "spill")
                    _ = try FieldPostings.List(spilled: &reader)
                }
            }
        }
    }
}
