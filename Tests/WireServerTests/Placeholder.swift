import XCTest
final class PlaceholderWireServerTests: XCTestCase { func testNothing() {} }
