import XCTest
@testable import WireCodec
final class PlaceholderCodec: XCTestCase { func testNothing() {} }
