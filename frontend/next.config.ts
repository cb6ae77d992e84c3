import type { NextConfig } from "next";

const config: NextConfig = {
  poweredByHeader: false,
  reactStrictMode: true,
  // `next dev` opened as 127.0.0.1 (as the tests do) may load its dev resources.
  allowedDevOrigins: ["127.0.0.1"],
  // Browsers still ask for /favicon.ico now and then (after Back, say): the app's icon.
  async rewrites() {
    return [{ source: "/favicon.ico", destination: "/icon.svg" }];
  },
};

export default config;
