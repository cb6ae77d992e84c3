/** Offers per page of the results table. */
export const PAGE_SIZE = 20;
