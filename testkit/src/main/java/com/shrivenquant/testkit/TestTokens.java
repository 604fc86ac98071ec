package com.shrivenquant.testkit;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Every plaintext operator API token the tests use, in one place: the scan of the test run's output
 * ({@code NoTokenInTestOutputIT}, in the last module) looks for exactly these. Nodes only ever get
 * their SHA-256 lines; a test that needs a token takes it from here.
 */
public final class TestTokens {
  public static final String VIEWER = "sqtest_viewer_aORKDx4in4n7-vUMgk4TNJ0oQ4W3xSrG";
  public static final String OPERATOR = "sqtest_operator_UvFMND5YuaRxO0KLa3L2s8ogwVOM1ITa";
  public static final String ADMIN = "sqtest_admin_4N__oVK48q4Uf_Z-HpNKBue_cbXBIkx7";

  /** Replaces {@link #VIEWER} when a test rotates the tokens file. */
  public static final String ROTATED_VIEWER = "sqtest_rotated_xngANIS9lqoELbeLqq8IUadJg-wrP_SW";

  /** Well-formed, and no node knows it: presented tokens must not be logged either. */
  public static final String UNKNOWN = "sqtest_unknown_On85anhZOxO8gTlItX8z8Fr3GFWR8lM0";

  private TestTokens() {}

  /** By name (what a scan reports instead of the token itself). */
  public static Map<String, String> all() {
    Map<String, String> all = new LinkedHashMap<>();
    all.put("VIEWER", VIEWER);
    all.put("OPERATOR", OPERATOR);
    all.put("ADMIN", ADMIN);
    all.put("ROTATED_VIEWER", ROTATED_VIEWER);
    all.put("UNKNOWN", UNKNOWN);
    return all;
  }
}
