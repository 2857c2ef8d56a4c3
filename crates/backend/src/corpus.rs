//! The backend's in-memory data: company records and a small document corpus with term-overlap
//! (TF-IDF style) scoring, standing in for a company-data API and a vector search.

use serde::Serialize;
use std::collections::HashMap;

#[derive(Debug, Clone, Serialize)]
pub struct Company {
    pub id: &'static str,
    pub name: &'static str,
    pub industry: &'static str,
    pub employees: u32,
    pub headquarters: &'static str,
}

pub const COMPANIES: &[Company] = &[
    Company {
        id: "acme",
        name: "Acme Corporation",
        industry: "manufacturing",
        employees: 5200,
        headquarters: "Springfield",
    },
    Company {
        id: "globex",
        name: "Globex",
        industry: "energy",
        employees: 12800,
        headquarters: "Cypress Creek",
    },
    Company {
        id: "initech",
        name: "Initech",
        industry: "software",
        employees: 860,
        headquarters: "Austin",
    },
    Company {
        id: "umbrella",
        name: "Umbrella Health",
        industry: "healthcare",
        employees: 40100,
        headquarters: "Raccoon City",
    },
    Company {
        id: "hooli",
        name: "Hooli",
        industry: "internet",
        employees: 31000,
        headquarters: "Palo Alto",
    },
    Company {
        id: "stark",
        name: "Stark Industries",
        industry: "aerospace",
        employees: 25000,
        headquarters: "Los Angeles",
    },
    Company {
        id: "wayne",
        name: "Wayne Enterprises",
        industry: "conglomerate",
        employees: 98000,
        headquarters: "Gotham",
    },
    Company {
        id: "tyrell",
        name: "Tyrell Corporation",
        industry: "biotechnology",
        employees: 7700,
        headquarters: "Los Angeles",
    },
];

pub fn company(id: &str) -> Option<&'static Company> {
    COMPANIES.iter().find(|c| c.id == id)
}

const DOCUMENTS: &[(&str, &str)] = &[
    ("opening-hours", "Our support line is open Monday to Friday from eight in the morning to eight in the evening, and Saturday mornings."),
    ("refund-policy", "Refunds are issued within fourteen days of purchase to the original payment method once the return is received."),
    ("shipping", "Standard shipping takes three to five business days; express shipping arrives the next business day."),
    ("password-reset", "To reset your password open the account page, choose forgot password and follow the link sent by email."),
    ("acme-profile", "Acme Corporation manufactures industrial tools and anvils and has offices in Springfield."),
    ("globex-profile", "Globex is an energy company operating power plants and a research campus in Cypress Creek."),
    ("initech-profile", "Initech builds banking software and maintains legacy systems for financial institutions in Austin."),
    ("invoice-questions", "Invoices are sent on the first day of each month and can be downloaded from the billing page."),
    ("data-privacy", "Customer data is stored encrypted, never sold, and deleted on request within thirty days."),
    ("voice-assistant", "The voice assistant answers questions about orders, billing, companies and opening hours."),
    ("order-status", "Order status is available on the orders page and by asking the assistant for your latest order."),
    ("contract-renewal", "Enterprise contracts renew yearly; the account manager contacts the company ninety days before renewal."),
];

#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    pub id: &'static str,
    pub score: f64,
    pub text: &'static str,
}

/// Documents indexed by term, with inverse document frequencies.
pub struct SearchIndex {
    docs: Vec<(&'static str, &'static str, HashMap<String, f64>)>,
    idf: HashMap<String, f64>,
}

fn terms(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|t| t.len() > 2)
        .map(|t| t.to_lowercase())
}

impl SearchIndex {
    pub fn new() -> Self {
        let mut df: HashMap<String, f64> = HashMap::new();
        let mut docs = Vec::new();
        for (id, text) in DOCUMENTS {
            let mut tf: HashMap<String, f64> = HashMap::new();
            for t in terms(text) {
                *tf.entry(t).or_default() += 1.0;
            }
            for t in tf.keys() {
                *df.entry(t.clone()).or_default() += 1.0;
            }
            docs.push((*id, *text, tf));
        }
        let n = DOCUMENTS.len() as f64;
        let idf = df
            .into_iter()
            .map(|(t, d)| (t, (1.0 + n / d).ln()))
            .collect();
        Self { docs, idf }
    }

    /// The `top_k` best documents for `query`, best first; documents sharing no term are left out.
    pub fn search(&self, query: &str, top_k: usize) -> Vec<Hit> {
        let q: Vec<String> = terms(query).collect();
        let mut hits: Vec<Hit> = self
            .docs
            .iter()
            .filter_map(|(id, text, tf)| {
                let score: f64 = q
                    .iter()
                    .filter_map(|t| Some(tf.get(t)? * self.idf.get(t)?))
                    .sum();
                (score > 0.0).then_some(Hit {
                    id,
                    score: (score * 1000.0).round() / 1000.0,
                    text,
                })
            })
            .collect();
        hits.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.id.cmp(b.id)));
        hits.truncate(top_k);
        hits
    }
}

impl Default for SearchIndex {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_the_matching_document_first() {
        let idx = SearchIndex::new();
        let hits = idx.search("how do I reset my password", 3);
        assert_eq!(hits[0].id, "password-reset");
        assert!(hits.windows(2).all(|w| w[0].score >= w[1].score));
        assert!(idx.search("zzzz qqqq", 5).is_empty());
    }
}
