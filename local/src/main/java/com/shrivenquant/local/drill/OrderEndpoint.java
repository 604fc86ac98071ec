package com.shrivenquant.local.drill;

/**
 * Where a drill client sends its next attempt: a fixed routing endpoint (the proxy), or the
 * addresses the order API's DNS name resolves to now ({@link DnsOrderEndpoint}).
 */
interface OrderEndpoint {
  /** The order API base URL for attempt {@code seq} (attempts spread over the addresses). */
  String baseUrl(long seq);

  /** How clients are routed, for the report: {@code proxy} or {@code dns}. */
  String kind();

  static OrderEndpoint fixed(String url) {
    return new OrderEndpoint() {
      @Override
      public String baseUrl(long seq) {
        return url;
      }

      @Override
      public String kind() {
        return "proxy";
      }
    };
  }
}
