// Browser tests of the web console against a running gongzhi (scripts/run-e2e).
const { defineConfig } = require('@playwright/test')

module.exports = defineConfig({
  testDir: __dirname,
  testMatch: /.*\.spec\.js$/,
  timeout: 90_000,
  expect: { timeout: 10_000 },
  // one browser at a time: the tests share one database, and a list checked while
  // another test files an order would see it move (newest first)
  workers: Number(process.env.E2E_WORKERS || 1),
  fullyParallel: false,
  retries: 0,
  outputDir: require('path').join(__dirname, 'test-results'),
  reporter: [['list'], ['json', { outputFile: require('path').join(__dirname, 'results.json') }]],
  use: {
    baseURL: process.env.E2E_BASE_URL || 'http://127.0.0.1:18181',
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
    viewport: { width: 1440, height: 900 },
    trace: 'off',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    },
  },
})
