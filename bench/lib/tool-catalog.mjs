/**
 * A generated catalog of 1,000 tools across 10 services (10 entities × 10 verbs each), with
 * realistic names, descriptions and parameters, and a fixed set of queries written for it,
 * each with the tool it should find. Deterministic: the same catalog on every run. Used by
 * the `tool_search` bench workload (tokens of tools/list against the search path, recall@5)
 * and by the test that keeps recall@5 above its floor (packages/gateway/src/federation/tool-search.test.ts).
 */

/** service -> entities: [singular, plural, what it is, its fields]. */
const SERVICES = {
  crm: [
    ['customer', 'customers', 'a person or company that buys from us', ['email', 'phone', 'company', 'segment']],
    ['lead', 'leads', 'a prospect who showed interest but has not bought yet', ['source', 'score', 'email', 'owner']],
    ['contact', 'contacts', 'a person at a customer account', ['email', 'role', 'phone', 'accountId']],
    ['deal', 'deals', 'a sales opportunity moving through the pipeline', ['stage', 'amount', 'closeDate', 'owner']],
    ['account', 'accounts', 'a company we sell to, grouping its contacts and deals', ['industry', 'size', 'region', 'owner']],
    ['activity', 'activities', 'a call, meeting or email logged against a customer', ['kind', 'when', 'contactId', 'notes']],
    ['note', 'notes', 'free text attached to a customer record', ['body', 'authorId', 'customerId', 'pinned']],
    ['pipeline', 'pipelines', 'the ordered stages deals pass through', ['stages', 'currency', 'default', 'team']],
    ['segment', 'segments', 'a saved group of customers matching a filter', ['filter', 'size', 'refreshedAt', 'owner']],
    ['territory', 'territories', 'a sales region assigned to a team', ['region', 'teamId', 'quota', 'countries']],
  ],
  billing: [
    ['invoice', 'invoices', 'a bill sent to a customer with line items and totals', ['customerId', 'dueDate', 'currency', 'status']],
    ['payment', 'payments', 'money received from a customer by card or transfer', ['amount', 'method', 'invoiceId', 'currency']],
    ['refund', 'refunds', 'money returned to a customer for a payment', ['paymentId', 'amount', 'reason', 'currency']],
    ['subscription', 'subscriptions', 'a recurring plan a customer pays for', ['planId', 'customerId', 'interval', 'trialEnds']],
    ['coupon', 'coupons', 'a discount code customers apply at checkout', ['code', 'percentOff', 'expiresAt', 'maxUses']],
    ['taxRate', 'taxRates', 'a sales tax or VAT percentage for a jurisdiction', ['country', 'percentage', 'inclusive', 'region']],
    ['creditNote', 'creditNotes', 'a document reducing the amount owed on an invoice', ['invoiceId', 'amount', 'reason', 'memo']],
    ['payout', 'payouts', 'a transfer of collected funds to our bank account', ['amount', 'bankAccount', 'arrivalDate', 'currency']],
    ['dispute', 'disputes', 'a chargeback a cardholder opened against a payment', ['paymentId', 'reason', 'evidence', 'deadline']],
    ['pricePlan', 'pricePlans', 'a product price with its billing interval', ['productId', 'unitAmount', 'interval', 'currency']],
  ],
  inventory: [
    ['product', 'products', 'an item we sell, with its SKU and description', ['sku', 'name', 'category', 'price']],
    ['warehouse', 'warehouses', 'a building where stock is kept', ['address', 'capacity', 'manager', 'timezone']],
    ['stockLevel', 'stockLevels', 'how many units of a product sit in a warehouse', ['productId', 'warehouseId', 'quantity', 'reserved']],
    ['supplier', 'suppliers', 'a vendor we buy products from', ['name', 'email', 'leadTimeDays', 'country']],
    ['purchaseOrder', 'purchaseOrders', 'an order we place with a supplier to restock', ['supplierId', 'lines', 'expectedDate', 'status']],
    ['bin', 'bins', 'a shelf location inside a warehouse', ['warehouseId', 'aisle', 'shelf', 'capacity']],
    ['stockTransfer', 'stockTransfers', 'a move of units between two warehouses', ['fromWarehouse', 'toWarehouse', 'productId', 'quantity']],
    ['category', 'categories', 'a group products are filed under', ['name', 'parentId', 'slug', 'visible']],
    ['batch', 'batches', 'a production lot of a product with its expiry date', ['productId', 'lotNumber', 'expiresOn', 'quantity']],
    ['stockAdjustment', 'stockAdjustments', 'a correction of counted stock after damage or loss', ['productId', 'delta', 'reason', 'warehouseId']],
  ],
  shipping: [
    ['shipment', 'shipments', 'a parcel sent to a customer', ['orderId', 'carrier', 'trackingNumber', 'weight']],
    ['carrier', 'carriers', 'a delivery company such as a courier or postal service', ['name', 'services', 'accountNumber', 'countries']],
    ['label', 'labels', 'a printable postage label for a parcel', ['shipmentId', 'format', 'size', 'carrier']],
    ['rate', 'rates', 'a quoted delivery price for a parcel and destination', ['weight', 'destination', 'service', 'carrier']],
    ['trackingEvent', 'trackingEvents', 'a scan of a parcel on its way, like out for delivery', ['shipmentId', 'status', 'location', 'when']],
    ['pickup', 'pickups', 'a courier collection booked at our warehouse', ['date', 'window', 'carrier', 'address']],
    ['returnLabel', 'returnLabels', 'a prepaid label a customer uses to send goods back', ['orderId', 'reason', 'carrier', 'expiresAt']],
    ['deliveryZone', 'deliveryZones', 'a set of postcodes with the same delivery options', ['postcodes', 'name', 'days', 'surcharge']],
    ['customsDeclaration', 'customsDeclarations', 'the customs paperwork for an international parcel', ['shipmentId', 'hsCodes', 'value', 'originCountry']],
    ['manifest', 'manifests', 'the end-of-day list of parcels handed to a carrier', ['carrier', 'date', 'shipmentIds', 'closed']],
  ],
  hr: [
    ['employee', 'employees', 'a person on the payroll', ['email', 'department', 'managerId', 'startDate']],
    ['department', 'departments', 'an organisational unit with a head and a budget', ['name', 'headId', 'budget', 'costCenter']],
    ['leaveRequest', 'leaveRequests', 'a request for vacation, sick leave or parental leave', ['employeeId', 'from', 'to', 'kind']],
    ['payslip', 'payslips', 'the monthly salary statement of an employee', ['employeeId', 'month', 'gross', 'net']],
    ['jobOpening', 'jobOpenings', 'a vacancy we are hiring for', ['title', 'department', 'location', 'salaryRange']],
    ['candidate', 'candidates', 'an applicant for a job opening', ['email', 'jobId', 'stage', 'resumeUrl']],
    ['interview', 'interviews', 'a scheduled conversation with a candidate', ['candidateId', 'when', 'interviewers', 'kind']],
    ['performanceReview', 'performanceReviews', 'a periodic evaluation of an employee', ['employeeId', 'period', 'rating', 'reviewerId']],
    ['benefit', 'benefits', 'a perk like health insurance or a pension plan', ['name', 'provider', 'monthlyCost', 'eligibility']],
    ['timesheet', 'timesheets', 'hours an employee worked per week and project', ['employeeId', 'week', 'hours', 'projectId']],
  ],
  support: [
    ['ticket', 'tickets', 'a customer support request with its conversation', ['subject', 'priority', 'requesterEmail', 'status']],
    ['agent', 'agents', 'a support team member who answers tickets', ['email', 'team', 'languages', 'available']],
    ['macro', 'macros', 'a canned reply agents insert into tickets', ['title', 'body', 'tags', 'team']],
    ['article', 'articles', 'a help centre article customers read', ['title', 'body', 'section', 'locale']],
    ['sla', 'slas', 'a service level target for first response and resolution', ['priority', 'firstResponseMinutes', 'resolutionHours', 'calendar']],
    ['satisfactionRating', 'satisfactionRatings', 'a customer satisfaction score left after a ticket', ['ticketId', 'score', 'comment', 'when']],
    ['escalation', 'escalations', 'a ticket raised to a senior team or engineering', ['ticketId', 'team', 'reason', 'severity']],
    ['chatSession', 'chatSessions', 'a live chat conversation on the website', ['visitorId', 'agentId', 'startedAt', 'transcript']],
    ['tag', 'tags', 'a label used to sort tickets', ['name', 'color', 'usage', 'team']],
    ['callRecording', 'callRecordings', 'an audio recording of a support phone call', ['ticketId', 'durationSeconds', 'agentId', 'url']],
  ],
  analytics: [
    ['report', 'reports', 'a saved chart or table over business data', ['query', 'chart', 'owner', 'schedule']],
    ['dashboard', 'dashboards', 'a page of reports shown together', ['title', 'reportIds', 'owner', 'shared']],
    ['metric', 'metrics', 'a named measure like revenue or churn rate', ['name', 'formula', 'unit', 'grain']],
    ['event', 'events', 'a tracked user action such as a page view or signup', ['name', 'userId', 'properties', 'timestamp']],
    ['funnel', 'funnels', 'a sequence of steps with conversion between them', ['steps', 'window', 'segment', 'owner']],
    ['cohort', 'cohorts', 'users grouped by when they signed up, for retention', ['signupWeek', 'size', 'retention', 'filter']],
    ['experiment', 'experiments', 'an A/B test comparing variants', ['variants', 'metric', 'traffic', 'status']],
    ['alertRule', 'alertRules', 'a threshold on a metric that notifies someone', ['metricId', 'threshold', 'channel', 'window']],
    ['dataSource', 'dataSources', 'a database or warehouse analytics reads from', ['kind', 'host', 'database', 'schedule']],
    ['forecast', 'forecasts', 'a projection of a metric into the future', ['metricId', 'horizon', 'model', 'confidence']],
  ],
  marketing: [
    ['campaign', 'campaigns', 'a coordinated marketing push across channels', ['name', 'budget', 'channel', 'startDate']],
    ['emailTemplate', 'emailTemplates', 'a reusable layout for marketing emails', ['name', 'subject', 'html', 'locale']],
    ['newsletter', 'newsletters', 'a periodic email sent to subscribers', ['subject', 'sendAt', 'listId', 'content']],
    ['mailingList', 'mailingLists', 'a list of email subscribers', ['name', 'subscribers', 'doubleOptIn', 'owner']],
    ['landingPage', 'landingPages', 'a web page built for one campaign', ['url', 'campaignId', 'headline', 'published']],
    ['socialPost', 'socialPosts', 'a post scheduled on a social network', ['network', 'text', 'scheduledAt', 'mediaUrl']],
    ['adCampaign', 'adCampaigns', 'paid search or social advertising with a daily budget', ['platform', 'dailyBudget', 'keywords', 'status']],
    ['utmLink', 'utmLinks', 'a tracked link with UTM parameters', ['url', 'source', 'medium', 'campaign']],
    ['audience', 'audiences', 'a targeting group for ads', ['criteria', 'size', 'platform', 'lookalike']],
    ['referral', 'referrals', 'a customer inviting a friend for a reward', ['referrerId', 'inviteeEmail', 'reward', 'status']],
  ],
  devops: [
    ['deployment', 'deployments', 'a release of a service version to an environment', ['service', 'version', 'environment', 'status']],
    ['incident', 'incidents', 'an outage or degradation being handled on call', ['severity', 'service', 'commander', 'status']],
    ['alert', 'alerts', 'a monitoring alarm that fired', ['rule', 'service', 'severity', 'firedAt']],
    ['server', 'servers', 'a virtual machine or host in our fleet', ['hostname', 'region', 'size', 'ip']],
    ['secret', 'secrets', 'a credential stored in the vault', ['path', 'version', 'rotatedAt', 'owner']],
    ['pipelineRun', 'pipelineRuns', 'a CI build and test run of a commit', ['commit', 'branch', 'status', 'duration']],
    ['dnsRecord', 'dnsRecords', 'an A, CNAME or TXT record of our domains', ['name', 'type', 'value', 'ttl']],
    ['certificate', 'certificates', 'a TLS certificate with its expiry date', ['domain', 'issuer', 'expiresAt', 'autoRenew']],
    ['onCallSchedule', 'onCallSchedules', 'who is on call when, by rotation', ['team', 'rotation', 'timezone', 'currentUser']],
    ['logQuery', 'logQueries', 'a saved search over application logs', ['query', 'service', 'timeRange', 'owner']],
  ],
  docs: [
    ['document', 'documents', 'a written page in the company wiki', ['title', 'body', 'spaceId', 'authorId']],
    ['space', 'spaces', 'a section of the wiki owned by a team', ['name', 'team', 'visibility', 'homePage']],
    ['comment', 'comments', 'a remark left on a wiki page', ['documentId', 'body', 'authorId', 'resolved']],
    ['attachment', 'attachments', 'a file uploaded to a wiki page', ['documentId', 'filename', 'size', 'mimeType']],
    ['revision', 'revisions', 'a saved version of a wiki page', ['documentId', 'authorId', 'savedAt', 'summary']],
    ['template', 'templates', 'a starting layout for new wiki pages', ['name', 'body', 'spaceId', 'category']],
    ['glossaryTerm', 'glossaryTerms', 'a company term with its definition', ['term', 'definition', 'synonyms', 'owner']],
    ['meetingNote', 'meetingNotes', 'minutes of a meeting with action items', ['title', 'attendees', 'date', 'actionItems']],
    ['permission', 'permissions', 'who may read or edit a space', ['spaceId', 'principal', 'level', 'inherited']],
    ['translation', 'translations', 'a wiki page translated into another language', ['documentId', 'locale', 'status', 'translator']],
  ],
};

const cap = (word) => word[0].toUpperCase() + word.slice(1);
/** `creditNote` -> `credit note`. */
const words = (name) => name.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();

/** verb -> [name prefix, plural?, description, parameters]. */
const VERBS = [
  ['get', false, (s, _p, what) => `Get one ${words(s)} by its id: ${what}. Returns every field.`, () => ({ id: 'string' })],
  [
    'list',
    true,
    (_s, p) => `List ${words(p)}, newest first, a page at a time. Filter by any field.`,
    (fields) => ({ cursor: 'string', limit: 'integer', [fields[0]]: 'string' }),
  ],
  ['create', false, (s, _p, what) => `Create a new ${words(s)} (${what}).`, (fields) => Object.fromEntries(fields.map((f) => [f, 'string']))],
  [
    'update',
    false,
    (s) => `Update fields of an existing ${words(s)}; fields left out stay as they are.`,
    (fields) => ({ id: 'string', ...Object.fromEntries(fields.slice(0, 2).map((f) => [f, 'string'])) }),
  ],
  ['delete', false, (s) => `Delete a ${words(s)} permanently. This cannot be undone.`, () => ({ id: 'string' })],
  ['search', true, (_s, p) => `Search ${words(p)} by free text over their fields.`, () => ({ query: 'string', limit: 'integer' })],
  ['export', true, (_s, p) => `Export ${words(p)} as a CSV file for a date range.`, () => ({ from: 'string', to: 'string', format: 'string' })],
  ['archive', false, (s) => `Archive a ${words(s)} so it is hidden from lists but kept.`, () => ({ id: 'string', reason: 'string' })],
  ['restore', false, (s) => `Restore an archived ${words(s)} back into lists.`, () => ({ id: 'string' })],
  ['count', true, (_s, p) => `Count ${words(p)} matching a filter, for totals and dashboards.`, (fields) => ({ [fields[1]]: 'string' })],
];

function annotationsOf(verb) {
  if (verb === 'get' || verb === 'list' || verb === 'search' || verb === 'export' || verb === 'count') return { readOnlyHint: true };
  if (verb === 'delete') return { destructiveHint: true };
  return { readOnlyHint: false, destructiveHint: false };
}

/** The 10 services' listings: `[{ service, tools }]`, 100 tools each. */
export function generateCatalog() {
  return Object.entries(SERVICES).map(([service, entities]) => ({
    service,
    tools: entities.flatMap(([singular, plural, what, fields]) =>
      VERBS.map(([verb, usesPlural, describe, params]) => {
        const properties = Object.fromEntries(Object.entries(params(fields)).map(([name, type]) => [name, { type }]));
        return {
          name: `${verb}${cap(usesPlural ? plural : singular)}`,
          title: `${cap(verb)} ${words(usesPlural ? plural : singular)}`,
          description: describe(singular, plural, what),
          inputSchema: { type: 'object', properties, required: Object.keys(properties).slice(0, 1) },
          annotations: annotationsOf(verb),
        };
      }),
    ),
  }));
}

/**
 * Queries as an agent would write them (not the tools' own words where avoidable), each
 * with the one tool it should find.
 */
export const QUERIES = [
  ['refund a customer payment', 'createRefund'],
  ['show me the invoice with id inv_42', 'getInvoice'],
  ['which invoices are overdue', 'listInvoices'],
  ['cancel someones subscription', 'deleteSubscription'],
  ['make a discount code for black friday', 'createCoupon'],
  ['VAT percentage for Germany', 'getTaxRate'],
  ['respond to a chargeback with evidence', 'updateDispute'],
  ['when does money arrive in our bank account', 'listPayouts'],
  ['add a new customer with email and phone', 'createCustomer'],
  ['find a customer by email', 'searchCustomers'],
  ['move a deal to the next pipeline stage', 'updateDeal'],
  ['log a call with a contact', 'createActivity'],
  ['how many leads came in from the webinar source', 'countLeads'],
  ['how many units of a SKU are in stock at the warehouse', 'getStockLevel'],
  ['reorder stock from a vendor', 'createPurchaseOrder'],
  ['move units from one warehouse to another', 'createStockTransfer'],
  ['write off damaged stock', 'createStockAdjustment'],
  ['which product lots expire soon', 'listBatches'],
  ['track a parcel with its tracking number', 'getShipment'],
  ['print a postage label', 'createLabel'],
  ['quote the delivery price for a 2 kg parcel', 'getRate'],
  ['book a courier collection at the warehouse', 'createPickup'],
  ['customer wants to send goods back prepaid', 'createReturnLabel'],
  ['customs paperwork for an international parcel', 'createCustomsDeclaration'],
  ['where is my package, latest scan', 'listTrackingEvents'],
  ['request vacation days', 'createLeaveRequest'],
  ['monthly salary statement of an employee', 'getPayslip'],
  ['post a job vacancy', 'createJobOpening'],
  ['schedule an interview with an applicant', 'createInterview'],
  ['hours worked this week on a project', 'createTimesheet'],
  ['yearly evaluation of an employee rating', 'createPerformanceReview'],
  ['new hire joins the payroll', 'createEmployee'],
  ['open a support ticket for a customer', 'createTicket'],
  ['canned reply for password resets', 'getMacro'],
  ['publish a help centre article', 'createArticle'],
  ['customer satisfaction scores this month', 'listSatisfactionRatings'],
  ['raise a ticket to engineering', 'createEscalation'],
  ['transcript of a live chat on the website', 'getChatSession'],
  ['first response time target for urgent tickets', 'getSla'],
  ['A/B test results of the pricing page', 'getExperiment'],
  ['retention of users who signed up in March', 'getCohort'],
  ['conversion between signup steps', 'getFunnel'],
  ['notify me when churn rate crosses a threshold', 'createAlertRule'],
  ['project revenue for the next quarter', 'createForecast'],
  ['send the weekly newsletter to subscribers', 'createNewsletter'],
  ['schedule a tweet', 'createSocialPost'],
  ['tracked link with utm parameters', 'createUtmLink'],
  ['daily budget of our paid search ads', 'updateAdCampaign'],
  ['friend invited by a customer reward status', 'getReferral'],
  ['roll out version 2.3 of the api service to production', 'createDeployment'],
  ['declare an outage and page the on call commander', 'createIncident'],
  ['who is on call tonight', 'getOnCallSchedule'],
  ['rotate a vault credential', 'updateSecret'],
  ['tls certificate about to expire', 'listCertificates'],
  ['add a CNAME record for our domain', 'createDnsRecord'],
  ['why did the CI build of this commit fail', 'getPipelineRun'],
  ['write a wiki page in the engineering space', 'createDocument'],
  ['previous version of a wiki page', 'listRevisions'],
  ['minutes and action items of yesterdays meeting', 'getMeetingNote'],
  ['translate a page into French', 'createTranslation'],
  ['who may edit a wiki space', 'listPermissions'],
  ['definition of a company term', 'getGlossaryTerm'],
];
